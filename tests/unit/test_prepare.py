"""Prepare on in-memory stores: the input is validated whole, cut into units, stored and queued."""

import json
from collections.abc import Callable, Iterable

import pytest

from batch_core.batches import cancel_batch
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidLines, StorageError
from batch_core.models.batch import Batch
from batch_core.models.work_unit import WorkUnit
from batch_core.prepare import prepare_batch
from batch_core.workflow.decisions import Decision, check_batch, mark_failed
from tests.unit.fakes.upstream import TableUpstream
from tests.unit.given import (
    SETTINGS,
    TENANT,
    answer_contents,
    created,
    created_from_checked_file,
    created_from_file,
    current,
    file_line,
    new_stores,
    prepared,
    run,
    run_all,
    run_first_then_prepare_again,
    uploaded,
)

PROMPTS = ["a", "b", "c", "d", "e", "f", "g"]


def test_a_batch_is_cut_into_units_of_three_lines_stored_and_queued_in_order() -> None:
    stores = new_stores()

    batch = prepared(stores, PROMPTS)

    units = list(stores.units.list(batch.id))
    assert [(unit.unit, unit.first, unit.count, unit.state) for unit in units] == [
        (0, 0, 3, "pending"),
        (1, 3, 3, "pending"),
        (2, 6, 1, "pending"),
    ]
    assert stores.queue.sent == [WorkUnit(**unit.model_dump(include=set(WorkUnit.model_fields))) for unit in units]
    read_back = [stores.blobs.get_range(batch.input_key, unit.byte_start, unit.byte_end) for unit in units]
    prompts = [[json.loads(line)["body"]["messages"][0]["content"] for line in data.splitlines()] for data in read_back]
    assert prompts == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert set(stores.units.ttls.values()) == {SETTINGS.batch_ttl(batch.expires_at)}
    assert (batch.status, batch.request_counts.total, batch.units, batch.unit_lines) == ("in_progress", 7, 3, 3)
    assert batch.started_at is not None


def test_a_bad_line_in_a_file_is_rejected_naming_line_and_field_and_nothing_is_queued() -> None:
    stores = new_stores()
    lines = [file_line("c0", "a"), file_line("c1", "b", url="/v1/embeddings"), file_line("c2", "c")]
    batch = created_from_file(stores, uploaded(stores, lines))

    with pytest.raises(InvalidLines) as rejected:
        prepare_batch(stores, SETTINGS, batch.id)

    assert rejected.value.as_error() == {
        "code": "url_mismatch",
        "message": "line 2: url must be the batch's endpoint /v1/chat/completions",
        "line": 2,
        "param": "url",
    }
    assert (stores.queue.sent, list(stores.units.list(batch.id))) == ([], [])
    assert current(stores, batch).status == "validating"


@pytest.mark.parametrize("create", [created, created_from_checked_file], ids=["inline", "checked_file"])
def test_a_batch_cancelled_before_it_was_prepared_queues_nothing_and_ends_cancelled(
    create: Callable[[Stores, list[str]], Batch],
) -> None:
    stores = new_stores()
    batch = create(stores, PROMPTS)
    cancel_batch(stores, TENANT, batch.id)

    prepare_batch(stores, SETTINGS, batch.id)
    decision = check_batch(stores, SETTINGS, batch.id)

    assert stores.queue.sent == []
    assert [unit.state for unit in stores.units.list(batch.id)] == ["cancelled"] * 3
    assert decision == Decision(next="finalize", outcome="cancelled")
    assert current(stores, batch).request_counts.cancelled == 7


def test_preparing_a_batch_already_in_progress_changes_nothing() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS)
    before = (current(stores, batch), list(stores.units.list(batch.id)))

    prepare_batch(stores, SETTINGS, batch.id)

    assert (current(stores, batch), list(stores.units.list(batch.id))) == before
    assert len(stores.queue.sent) == 3


def test_a_prepare_that_crashed_while_queueing_runs_again_keeping_what_ran_and_queueing_every_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(36)]
    batch = created(stores, prompts)
    send = stores.queue.send

    def crash_on_the_last_units(units: Iterable[WorkUnit]) -> int:
        group = list(units)
        if group[-1].unit == 11:
            raise StorageError("the function ran out of time")
        return send(group)

    with monkeypatch.context() as patched:
        patched.setattr(stores.queue, "send", crash_on_the_last_units)
        with pytest.raises(StorageError):
            prepare_batch(stores, SETTINGS, batch.id)
    sent_before = run_first_then_prepare_again(stores, batch, prompts)

    assert len(sent_before) == 10
    assert sorted({message.unit for message in stores.queue.sent}) == list(range(12))
    assert current(stores, batch).request_counts.completed == 36
    assert answer_contents(stores, batch) == ["A"] * 3 + ["B"] * 33


def test_a_big_input_queues_its_first_units_while_it_validates_and_a_bad_line_late_in_it_runs_none() -> None:
    stores = new_stores()
    lines = [file_line(f"c{n}", f"p{n}") for n in range(78)] + [file_line("c0", "again")]
    batch = created_from_file(stores, uploaded(stores, lines))

    with pytest.raises(InvalidLines, match="line 79: custom_id 'c0' duplicates line 1"):
        prepare_batch(stores, SETTINGS, batch.id)
    mark_failed(stores, batch.id, "line 79: custom_id 'c0' duplicates line 1")
    upstream = TableUpstream()
    waits = [run(stores, message, upstream) for message in stores.queue.sent]

    assert [message.unit for message in stores.queue.sent] == [0, 1]
    assert waits == [None, None]
    assert upstream.prompts == []
    assert (current(stores, batch).status, current(stores, batch).units) == ("failed", 0)


def test_a_big_valid_input_queues_each_unit_once_and_every_line_runs() -> None:
    stores = new_stores()
    batch = created_from_file(stores, uploaded(stores, [file_line(f"c{n}", f"p{n}") for n in range(80)]))

    prepare_batch(stores, SETTINGS, batch.id)
    run_all(stores)

    assert [message.unit for message in stores.queue.sent] == list(range(27))
    assert current(stores, batch).request_counts.completed == 80
