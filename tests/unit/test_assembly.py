"""Assembling the output and error files while lines run, on in-memory stores: blocks of units become parts as they
finish, in any order; finalize joins the parts into files that hold every line once, in input order."""

import json

import pytest

from batch_core import assembly
from batch_core.batches import cancel_batch
from batch_core.dal.stores import Stores
from batch_core.errors import StorageError
from batch_core.finalize import finalize_batch
from batch_core.line_views import iter_lines
from batch_core.models import assembly as assembly_models
from batch_core.models.batch import Batch
from batch_core.workflow.decisions import check_batch, expire_batch
from tests.unit.fakes.upstream import TableUpstream, answered, status
from tests.unit.given import INVOCATION_SECONDS, SETTINGS, TENANT, current, new_stores, prepared, run

# Each answer makes an output line of about 520 bytes: a block of two units of three lines is about 3 KB.
ANSWER = "x" * 120


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of two units (six lines) and parts of two blocks, so a few dozen lines make several of each."""
    monkeypatch.setattr(assembly_models, "BLOCK_LINES", 6)
    monkeypatch.setattr(assembly, "PART_BYTES", 4000)


def lines_of(stores: Stores, key: str | None) -> list[tuple[str, str | None]]:
    """Each line of a file: its custom id, and its error code if it has one."""
    if key is None:
        return []
    lines = [json.loads(line) for line in stores.blobs.get(key).splitlines()]
    return [(line["custom_id"], line["error"]["code"] if line["error"] else None) for line in lines]


def expected_files(stores: Stores, batch: Batch) -> tuple[bytes, bytes]:
    """The output and error files as the batch's lines read one by one, in input order."""
    views = list(iter_lines(stores, batch))
    output = b"".join(view.line for view in views if view.status == "succeeded")
    return output, b"".join(view.line for view in views if view.status != "succeeded")


def test_units_ending_out_of_order_with_retries_and_duplicates_give_files_in_input_order() -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(30)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream(
        {prompt: [answered(ANSWER)] for prompt in prompts}
        | {"p4": [status(503), answered(ANSWER)], "p13": [status(400)], "p25": [status(500), status(400)]}
    )
    messages = list(reversed(stores.queue.sent))

    for message in messages:
        run(stores, message, upstream)
    run(stores, messages[0], upstream, delivery="duplicate")
    assembled_while_running = list(stores.assembly.parts(batch.id))
    for message in (stores.queue.sent[1], stores.queue.sent[8]):
        run(stores, message, upstream, delivery="retry")
    outcome = finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert outcome == "completed"
    # Blocks 0 and 4 waited for their retried lines; block 1 finished after its neighbour went into a part.
    assert [(part.first_block, part.end_block) for part in assembled_while_running] == [(2, 4)]
    assert [(part.first_block, part.end_block) for part in stores.assembly.parts(batch.id)] == [(0, 2), (2, 4), (4, 5)]
    succeeded = [(f"c{n}", None) for n in range(30) if n not in (13, 25)]
    assert lines_of(stores, ended.output_key) == succeeded
    assert lines_of(stores, ended.error_key) == [("c13", "code_400"), ("c25", "code_400")]
    assert (stores.blobs.get(ended.output_key or ""), stores.blobs.get(ended.error_key or "")) == expected_files(
        stores, ended
    )
    assert stores.blobs.open_uploads() == []


def test_a_run_of_finished_blocks_becomes_a_part_once_it_weighs_enough() -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(12)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER)] for prompt in prompts})

    run(stores, stores.queue.sent[0], upstream)
    run(stores, stores.queue.sent[1], upstream)
    one_block = list(stores.assembly.parts(batch.id))
    run(stores, stores.queue.sent[3], upstream)
    run(stores, stores.queue.sent[2], upstream)

    assert one_block == []
    parts = list(stores.assembly.parts(batch.id))
    assert [(part.first_block, part.end_block) for part in parts] == [(0, 2)]
    assert parts[0].output_bytes == len(stores.blobs.get(parts[0].output_key or "")) > 4000
    assert parts[0].error_key is None


def test_a_cancelled_batch_lists_its_unrun_lines_in_input_order_after_the_lines_that_ran() -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(24)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER)] for prompt in prompts} | {"p7": [status(400)]})
    for message in (stores.queue.sent[6], stores.queue.sent[2], stores.queue.sent[3]):
        run(stores, message, upstream)
    cancel_batch(stores, TENANT, batch.id)
    check_batch(stores, SETTINGS, batch.id)

    finalize_batch(stores, SETTINGS, batch.id, "cancelled")

    ended = current(stores, batch)
    ran = [6, 8, 9, 10, 11, 18, 19, 20]
    assert ended.status == "cancelled"
    assert lines_of(stores, ended.output_key) == [(f"c{n}", None) for n in ran]
    assert lines_of(stores, ended.error_key) == [
        (f"c{n}", "code_400" if n == 7 else "batch_cancelled") for n in range(24) if n not in ran
    ]
    assert stores.blobs.get(ended.error_key or "") == expected_files(stores, ended)[1]


def test_an_expired_batch_keeps_what_ran_and_lists_the_rest_expired_in_input_order() -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(18)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER)] for prompt in prompts} | {"p1": [status(503)]})
    for message in stores.queue.sent[:3]:
        run(stores, message, upstream)

    expire_batch(stores, SETTINGS, batch.id)
    finalize_batch(stores, SETTINGS, batch.id, "expired")

    ended = current(stores, batch)
    ran = [0, 2, 3, 4, 5, 6, 7, 8]
    assert ended.status == "expired"
    assert ended.request_counts.completed == len(ran) and ended.request_counts.expired == 18 - len(ran)
    assert lines_of(stores, ended.output_key) == [(f"c{n}", None) for n in ran]
    assert lines_of(stores, ended.error_key) == [(f"c{n}", "batch_expired") for n in range(18) if n not in ran]


@pytest.mark.parametrize("crash_at", ["assembling", "joining"])
def test_a_finalize_that_crashes_halfway_and_runs_again_writes_the_same_files(
    monkeypatch: pytest.MonkeyPatch, crash_at: str
) -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(30)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER * 5)] for prompt in prompts} | {"p3": [status(400)]})
    for message in stores.queue.sent[1:]:
        run(stores, message, upstream)
    # The first unit ends last, too close to its invocation's end to assemble: its block and the rest are left
    # for finalize.
    monkeypatch.setattr(assembly, "PART_SECONDS", INVOCATION_SECONDS)
    run(stores, stores.queue.sent[0], upstream)
    expected = expected_files(stores, current(stores, batch))
    crashing = "put" if crash_at == "assembling" else "put_part"
    honest = getattr(stores.blobs, crashing)
    calls = []

    def crash_on_second(*arguments: object) -> object:
        calls.append(arguments)
        if len(calls) == 2:
            raise StorageError("the function ran out of time")
        return honest(*arguments)

    monkeypatch.setattr(stores.blobs, crashing, crash_on_second)
    with pytest.raises(StorageError):
        finalize_batch(stores, SETTINGS, batch.id, "completed")
    outcome = finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert (outcome, len(calls) > 2) == ("completed", True)
    assert (stores.blobs.get(ended.output_key or ""), stores.blobs.get(ended.error_key or "")) == expected
    assert lines_of(stores, ended.error_key) == [("c3", "code_400")]
    assert stores.blobs.open_uploads() == []


def test_an_assembly_that_fails_after_a_unit_leaves_its_attempt_saved_and_finalize_assembles_the_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(12)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER)] for prompt in prompts})

    def unreachable(*_: object) -> None:
        raise StorageError("could not write a part")

    with monkeypatch.context() as patched:
        patched.setattr(assembly, "_assemble", unreachable)
        waits = [run(stores, message, upstream) for message in stores.queue.sent]
    finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert waits == [None] * 4 and ended.request_counts.completed == 12
    assert [(part.first_block, part.end_block) for part in stores.assembly.parts(batch.id)] == [(0, 2)]
    assert lines_of(stores, ended.output_key) == [(f"c{n}", None) for n in range(12)]


def test_units_ending_close_to_their_invocations_end_leave_their_blocks_to_finalize(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(12)]
    batch = prepared(stores, prompts)
    upstream = TableUpstream({prompt: [answered(ANSWER)] for prompt in prompts})
    monkeypatch.setattr(assembly, "PART_SECONDS", INVOCATION_SECONDS)

    for message in stores.queue.sent:
        run(stores, message, upstream)
    assembled_while_running = list(stores.assembly.parts(batch.id))
    finalize_batch(stores, SETTINGS, batch.id, "completed")

    assert assembled_while_running == []
    assert [(part.first_block, part.end_block) for part in stores.assembly.parts(batch.id)] == [(0, 2)]
    assert lines_of(stores, current(stores, batch).output_key) == [(f"c{n}", None) for n in range(12)]
