import json
import re
import time
from typing import Any

import boto3
import pytest

from batch_core.dal.queue import WorkQueue
from batch_core.dal.storage import JSONL, BlobStore
from batch_core.dal.workflow import Workflow
from batch_core.errors import StorageError
from batch_core.models.status import UnitState
from batch_core.models.work_unit import UnitRecord, WorkUnit
from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, queue_url, set_queue
from tests.sqs_records import sqs_record

CHAT = "/v1/chat/completions"


def test_every_work_unit_delivered_twice_changes_nothing(
    console: Console, system: LocalSystem, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    send = WorkQueue.send

    def send_twice(self: WorkQueue, units: Any) -> int:
        units = list(units)
        return send(self, units) + send(self, units)

    monkeypatch.setattr(WorkQueue, "send", send_twice)
    lines = [chat_line(f"d{n}", f"duplicate {n}") for n in range(8)]

    batch = console.wait(console.create({"endpoint": CHAT, "requests": lines}).json()["id"])
    _deliver_again_everything_ever_sent(system, batch["id"])

    assert batch["request_counts"] == {"total": 8, "completed": 8, "failed": 0, "cancelled": 0, "expired": 0}
    assert console.get(batch["id"]).json() == batch
    results = console.result_lines(batch["id"])
    assert [line["custom_id"] for line in results] == [f"d{n}" for n in range(8)]
    assert all(count == 1 for count in simulator.calls.values())


def _deliver_again_everything_ever_sent(system: LocalSystem, batch_id: str) -> None:
    """Replays each unit's message straight into the executor after the batch finished."""
    records = [
        sqs_record(_message(unit).model_dump_json(), message_id=f"replay-{unit.unit}", receives=2)
        for unit in system.stores.units.list(batch_id)
    ]
    answer = system.lambdas.invoke(system.stack.ref("ExecutorFunction"), {"Records": records})
    assert answer == {"batchItemFailures": []}


def _message(unit: UnitRecord) -> WorkUnit:
    """The work unit message that queued `unit`."""
    return WorkUnit.model_validate(unit.model_dump(include=set(WorkUnit.model_fields)))


def test_executor_crash_mid_unit_then_redelivery_gives_exact_counts(
    console: Console, system: LocalSystem, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_queue(system, "WorkQueue", VisibilityTimeout="1")
    real_put = BlobStore.put
    crashed: list[str] = []

    def crash_on_first_output(self: BlobStore, key: str, data: bytes, content_type: str = JSONL) -> None:
        if "/units/" in key and not crashed:
            crashed.append(key)
            raise RuntimeError("executor crashed after calling the upstream")
        real_put(self, key, data, content_type)

    monkeypatch.setattr(BlobStore, "put", crash_on_first_output)
    lines = [chat_line(f"k{n}", f"crash {n}") for n in range(6)]

    batch = console.wait(console.create({"endpoint": CHAT, "requests": lines}).json()["id"], timeout=30)

    assert crashed
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 6, "completed": 6, "failed": 0, "cancelled": 0, "expired": 0}
    assert len(console.result_lines(batch["id"])) == 6
    assert sorted(simulator.calls.values()) == [1, 1, 1, 2, 2, 2]


def test_poison_unit_goes_to_the_dead_letter_queue_and_the_batch_still_ends(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    _redrive_after(system, 2, VisibilityTimeout="1")
    real_range = BlobStore.get_range

    def unreadable_after_first_unit(self: BlobStore, key: str, start: int, end: int) -> bytes:
        if key.endswith("input.jsonl") and start > 0:
            raise StorageError("this range cannot be read")
        return real_range(self, key, start, end)

    monkeypatch.setattr(BlobStore, "get_range", unreadable_after_first_unit)
    lines = [chat_line(f"p{n}", f"poison {n}") for n in range(6)]
    batch_id = console.create({"endpoint": CHAT, "requests": lines}).json()["id"]

    batch = console.wait(batch_id, timeout=30)

    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 6, "completed": 3, "failed": 3, "cancelled": 0, "expired": 0}
    failed = console.items(batch_id, "status=failed").json()["data"]
    assert [item["index"] for item in failed] == [3, 4, 5]
    assert re.fullmatch(
        r"the work unit failed \d+ deliveries and was set aside; its lines did not finish", failed[0]["error_message"]
    )
    errors = [line for line in console.result_lines(batch_id) if line["error"]]
    assert {line["error"]["code"] for line in errors} == {"work_unit_failed"}


def test_a_lost_completion_signal_is_caught_by_the_watchdog(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Workflow, "signal_done", lambda self, token: False)
    lines = [chat_line(f"w{n}", f"watchdog {n}") for n in range(4)]
    # A window this short keeps the watchdog at its setting; a long one stretches it to fit the history.
    created = console.create({"endpoint": CHAT, "requests": lines, "completion_window": "10m"})

    batch = console.wait(created.json()["id"], timeout=20)

    assert batch["status"] == "completed"
    assert batch["request_counts"]["completed"] == 4


def _use_settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Sets the functions' environment before a handler has loaded, so each handler's settings have them."""
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_a_unit_that_waits_more_often_than_the_queue_redrives_still_completes_every_line(
    console: Console, system: LocalSystem, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _redrive_after(system, 2)
    _use_settings(monkeypatch, MAX_LINE_ATTEMPTS="8", RETRY_MAX_SECONDS="1")
    lines = [chat_line("busy", "throttled [fault:429x4]"), chat_line("calm", "fine"), chat_line("calm-2", "also fine")]

    batch = console.wait(console.create({"endpoint": CHAT, "requests": lines}).json()["id"], timeout=40)

    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 3, "completed": 3, "failed": 0, "cancelled": 0, "expired": 0}
    assert simulator.calls == {"throttled [fault:429x4]": 5, "fine": 1, "also fine": 1}
    assert [line["response"]["status_code"] for line in console.result_lines(batch["id"])] == [200, 200, 200]


def test_a_wait_longer_than_sqs_can_delay_hops_through_the_queue_without_running_the_unit(
    console: Console, system: LocalSystem
) -> None:
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line("later", "not yet")]}).json()["id"]
    console.wait(batch_id, {"in_progress"}, deliver=False)
    [unit] = system.stores.units.list(batch_id)
    due = int(time.time()) + 3600
    record = sqs_record(
        _message(unit).model_copy(update={"not_before": due}).model_dump_json(), message_id="m-later", receives=2
    )

    answer = system.lambdas.invoke(system.stack.ref("ExecutorFunction"), {"Records": [record]})

    assert answer == {"batchItemFailures": []}
    [still] = system.stores.units.list(batch_id)
    assert still.state == UnitState.PENDING and still.attempt == 0
    counts = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "WorkQueue"), AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    assert counts["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"


def test_a_unit_too_slow_for_one_invocation_finishes_over_several_attempts_each_line_run_once(
    console: Console, system: LocalSystem, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_settings(monkeypatch, WORK_UNIT_LINES="12", LINE_CONCURRENCY="1")
    lines = [chat_line(f"s{n}", f"slow {n} [slow:0.5]") for n in range(12)]

    batch = console.wait(console.create({"endpoint": CHAT, "requests": lines}).json()["id"], timeout=60)

    assert batch["request_counts"] == {"total": 12, "completed": 12, "failed": 0, "cancelled": 0, "expired": 0}
    assert simulator.calls == {f"slow {n} [slow:0.5]": 1 for n in range(12)}
    assert [line["custom_id"] for line in console.result_lines(batch["id"])] == [f"s{n}" for n in range(12)]
    [unit] = system.stores.units.list(batch["id"])
    assert unit.state == UnitState.DONE
    assert len(unit.outputs) >= 3


def _redrive_after(system: LocalSystem, receives: int, **attributes: str) -> None:
    """The work queue dead-letters a message after `receives` failed deliveries."""
    dead_letters = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "DeadLetterQueue"), AttributeNames=["QueueArn"]
    )
    target = dead_letters["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": receives})
    set_queue(system, "WorkQueue", RedrivePolicy=policy, **attributes)
