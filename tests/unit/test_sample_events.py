import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from batch_core.models.work_unit import WorkUnitMessage
from batch_core.models.workflow import AwaitTask, BatchTask, ExecutionEndedEvent, FinalizeTask, MarkFailedTask

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.mark.parametrize(
    ("event", "model"),
    [
        ("prepare_task.json", BatchTask),
        ("check_task.json", BatchTask),
        ("expire_task.json", BatchTask),
        ("await_lines_task.json", AwaitTask),
        ("finalize_task.json", FinalizeTask),
        ("mark_failed_task.json", MarkFailedTask),
    ],
)
def test_sample_task_inputs_parse_as_their_handlers_expect(event: str, model: type[BaseModel]) -> None:
    parsed = model.model_validate(json.loads((EVENTS / event).read_text()))

    assert parsed.batch_id == "batch_019abc000000aaaaaaaaaaaaaaaa"  # type: ignore[attr-defined]


def test_sample_sqs_event_carries_a_work_unit() -> None:
    record = json.loads((EVENTS / "executor_work_unit.json").read_text())["Records"][0]

    unit = WorkUnitMessage.model_validate(record).body

    assert (unit.first, unit.count, unit.byte_start, unit.byte_end) == (0, 50, 0, 9000)
    assert unit.indexes == range(0, 50)


def test_sample_execution_ended_event_names_its_batch_and_status() -> None:
    event = ExecutionEndedEvent.model_validate(json.loads((EVENTS / "execution_ended.json").read_text()))

    assert (event.detail.name, event.detail.status) == ("batch_019abc000000aaaaaaaaaaaaaaaa", "FAILED")
