"""Batch and work unit records: conditional transitions, claims and leases, attempts and closes with their counters."""

import pytest

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition, StorageError
from batch_core.models.assembly import Block, BlockChange
from batch_core.models.batch import Batch, RequestCounts
from batch_core.models.status import BatchStatus, UnitState
from batch_core.models.usage import Usage
from batch_core.models.work_unit import AttemptRecord, UnitRecord

NOW = 1_900_000_000


def new_batch(batch_id: str = "batch_1", tenant_id: str = "tenant-a", total: int = 3) -> Batch:
    return Batch(
        id=batch_id,
        tenant_id=tenant_id,
        endpoint="/v1/chat/completions",
        status="validating",
        completion_window="24h",
        input_key="input.jsonl",
        request_counts=RequestCounts(total=total),
        created_at=NOW,
        expires_at=NOW + 86400,
    )


def new_unit(unit: int = 0, count: int = 3, batch_id: str = "batch_1") -> UnitRecord:
    return UnitRecord(batch_id=batch_id, unit=unit, first=unit * count, count=count, byte_start=0, byte_end=10)


def test_a_batch_moves_only_from_the_statuses_the_table_allows(stores: Stores) -> None:
    stores.batches.put_new(new_batch())

    started = stores.batches.transition("batch_1", to=BatchStatus.IN_PROGRESS, changes={"started_at": NOW})

    assert (started.status, started.started_at) == ("in_progress", NOW)
    with pytest.raises(InvalidTransition):
        stores.batches.transition("batch_1", to=BatchStatus.IN_PROGRESS)
    with pytest.raises(InvalidTransition):
        stores.batches.plan("batch_1", total=3, units=1, unit_lines=3, block_units=1)
    with pytest.raises(InvalidTransition):
        stores.batches.update("batch_1", while_in={BatchStatus.VALIDATING}, changes={"task_token": "t"})
    with pytest.raises(InvalidTransition):
        stores.batches.transition("batch_missing", to=BatchStatus.CANCELLING)
    with pytest.raises(ValueError, match="transition"):
        stores.batches.update("batch_1", while_in={BatchStatus.IN_PROGRESS}, changes={"status": "failed"})
    assert stores.batches.get("batch_1", consistent=True) == started


def test_planning_sets_the_total_and_the_units(stores: Stores) -> None:
    stores.batches.put_new(new_batch(total=0))

    planned = stores.batches.plan("batch_1", total=7, units=3, unit_lines=3, block_units=2)

    assert (planned.request_counts.total, planned.units, planned.unit_lines, planned.blocks) == (7, 3, 3, 2)
    assert stores.batches.get("batch_1") == planned


def test_a_batch_is_stored_once_and_listed_newest_first(stores: Stores) -> None:
    for batch_id in ("batch_1", "batch_2", "batch_3"):
        stores.batches.put_new(new_batch(batch_id))
    stores.batches.put_new(new_batch("batch_4", tenant_id="tenant-b"))
    stores.batches.transition("batch_2", to=BatchStatus.CANCELLING)

    with pytest.raises(StorageError):
        stores.batches.put_new(new_batch("batch_1"))
    assert [batch.id for batch in stores.batches.list("tenant-a", limit=2)] == ["batch_3", "batch_2"]
    assert [batch.id for batch in stores.batches.list("tenant-a", limit=5, before="batch_3")] == ["batch_2", "batch_1"]
    assert [batch.id for batch in stores.batches.list("tenant-a", status="cancelling", limit=5)] == ["batch_2"]


def test_the_finisher_is_claimed_once(stores: Stores) -> None:
    stores.batches.put_new(new_batch())

    assert [stores.batches.claim_finisher("batch_1") for _ in range(2)] == [True, False]
    assert stores.batches.claim_finisher("batch_missing") is False


def test_a_unit_is_claimed_by_one_attempt_until_its_lease_runs_out(stores: Stores) -> None:
    stores.units.put_all([new_unit()], ttl=NOW)

    first = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10, holder="m1")
    busy = stores.units.claim("batch_1", 0, now=NOW + 10, lease_seconds=10, holder="m2")
    after_lease = stores.units.claim("batch_1", 0, now=NOW + 11, lease_seconds=10, holder="m2")
    forced = stores.units.claim("batch_1", 0, now=NOW + 11, lease_seconds=10, force=True)

    assert first is not None and (first.count, first.state, first.attempt, first.holder) == (3, "running", 1, "m1")
    assert first.lease_until == NOW + 10
    assert busy is None
    assert after_lease is not None and (after_lease.attempt, after_lease.holder) == (2, "m2")
    assert forced is not None and (forced.attempt, forced.holder) == (3, None)
    assert stores.units.claim("batch_1", 9, now=NOW, lease_seconds=10) is None


def test_an_attempt_saves_its_lines_with_the_batch_counters(stores: Stores) -> None:
    stores.batches.put_new(new_batch())
    stores.units.put_all([new_unit()], ttl=NOW)
    unit = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10)
    assert unit is not None

    first = block_change(succeeded=1, failed=1, output_bytes=100, error_bytes=40)
    saved = stores.units.record_attempt(
        unit,
        AttemptRecord(
            finished={0: "succeeded", 1: "failed"}, outputs_key="p1", retries={2: 1}, usage=usage(5, 7), block=first
        ),
    )
    partly = stores.units.get("batch_1", 0)
    again = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10)
    assert again is not None
    last = block_change(succeeded=1, output_bytes=60, units_ended=1)
    stores.units.record_attempt(
        again, AttemptRecord(finished={2: "succeeded"}, outputs_key="p2", usage=usage(1, 2), block=last)
    )
    done = stores.units.get("batch_1", 0)
    batch = stores.batches.get("batch_1")

    assert saved is True
    assert partly is not None
    assert (partly.state, partly.finished, partly.retries, partly.outputs) == ("pending", {0, 1}, {2: 1}, ["p1"])
    assert done is not None
    assert (done.state, done.finished, done.retries, done.outputs) == ("done", set(), {}, ["p1", "p2"])
    assert (done.n_succeeded, done.n_failed, done.lease_until) == (2, 1, 0)
    assert batch is not None
    assert batch.request_counts == RequestCounts(total=3, completed=2, failed=1)
    assert batch.usage == usage(6, 9)
    assert stores.assembly.block("batch_1", 0) == Block(
        batch_id="batch_1", block=0, succeeded=2, failed=1, units_ended=1, output_bytes=160, error_bytes=40
    )


def test_an_attempt_that_lost_its_unit_changes_nothing(stores: Stores) -> None:
    stores.batches.put_new(new_batch())
    stores.units.put_all([new_unit()], ttl=NOW)
    lost = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10)
    assert lost is not None
    holder = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10, force=True)

    record = AttemptRecord(
        finished={0: "succeeded"}, outputs_key="p", usage=usage(5, 7), block=block_change(succeeded=1)
    )
    saved = stores.units.record_attempt(lost, record)

    assert saved is False
    assert stores.units.get("batch_1", 0) == holder
    batch = stores.batches.get("batch_1")
    assert batch is not None and (batch.request_counts, batch.usage) == (RequestCounts(total=3), Usage())
    assert stores.assembly.block("batch_1", 0) is None


def test_closing_a_unit_counts_its_unfinished_lines_once(stores: Stores) -> None:
    stores.batches.put_new(new_batch(total=6))
    stores.units.put_all([new_unit(0)], ttl=NOW)
    stores.units.put_all([new_unit(1)], ttl=NOW)
    unit = stores.units.claim("batch_1", 0, now=NOW, lease_seconds=10)
    assert unit is not None
    stores.units.record_attempt(unit, AttemptRecord(finished={0: "succeeded"}, block=block_change(succeeded=1)))
    pending = stores.units.get("batch_1", 0)
    running = stores.units.claim("batch_1", 1, now=NOW, lease_seconds=10)
    assert pending is not None and running is not None
    cancelled, expired = block_change(cancelled=2, units_ended=1), block_change(expired=3, units_ended=1)

    closed = [
        stores.units.close([pending], to=UnitState.CANCELLED, blocks=[cancelled]),
        stores.units.close([pending], to=UnitState.CANCELLED, blocks=[cancelled]),
    ]
    not_cancelled = stores.units.close([running], to=UnitState.CANCELLED, blocks=[cancelled])
    was_expired = stores.units.close([running], to=UnitState.EXPIRED, blocks=[expired])

    assert (closed, not_cancelled, was_expired) == ([True, False], False, True)
    assert [(unit.state, unit.attempt) for unit in stores.units.list("batch_1")] == [("cancelled", 2), ("expired", 2)]
    batch = stores.batches.get("batch_1")
    assert batch is not None and batch.request_counts == RequestCounts(total=6, completed=1, cancelled=2, expired=3)
    block = stores.assembly.block("batch_1", 0)
    assert block is not None and (block.succeeded, block.cancelled, block.expired, block.units_ended) == (1, 2, 3, 2)


def test_units_close_together_or_not_at_all(stores: Stores) -> None:
    stores.batches.put_new(new_batch(total=12))
    stores.units.put_all([new_unit(number) for number in range(4)], ttl=NOW)
    units = list(stores.units.list("batch_1"))
    changed = stores.units.claim("batch_1", 3, now=NOW, lease_seconds=10)
    assert changed is not None
    blocks = [
        block_change(cancelled=6, units_ended=2),
        block_change(cancelled=3, units_ended=1).model_copy(update={"block": 1}),
    ]

    refused = stores.units.close(units[1:], to=UnitState.CANCELLED, blocks=blocks)
    closed = stores.units.close(units[:3], to=UnitState.CANCELLED, blocks=blocks)

    assert (refused, closed) == (False, True)
    assert [unit.state for unit in stores.units.list("batch_1")] == ["cancelled", "cancelled", "cancelled", "running"]
    batch = stores.batches.get("batch_1")
    assert batch is not None and batch.request_counts == RequestCounts(total=12, cancelled=9)
    assert [(block.block, block.cancelled, block.units_ended) for block in stores.assembly.blocks("batch_1")] == [
        (0, 6, 2),
        (1, 3, 1),
    ]


def test_units_stored_together_replace_what_was_there_and_keep_the_rest(stores: Stores) -> None:
    stores.units.put_all([new_unit(number) for number in range(25)], ttl=NOW)
    claimed = stores.units.claim("batch_1", 3, now=NOW, lease_seconds=10)

    stores.units.put_all([new_unit(3), new_unit(25)], ttl=NOW)

    assert claimed is not None and claimed.state == "running"
    assert [
        (unit.unit, unit.state, unit.attempt) for unit in stores.units.list("batch_1", first_unit=2, last_unit=4)
    ] == [
        (2, "pending", 0),
        (3, "pending", 0),
        (4, "pending", 0),
    ]
    assert len(list(stores.units.list("batch_1"))) == 26


def test_storing_missing_units_keeps_every_stored_unit_as_it_is(stores: Stores) -> None:
    stores.units.put_all([new_unit(0), new_unit(1)], ttl=NOW)
    stores.units.claim("batch_1", 1, now=NOW, lease_seconds=10)

    stores.units.put_missing([new_unit(0), new_unit(1), new_unit(2)], ttl=NOW)

    assert [(unit.unit, unit.state, unit.attempt) for unit in stores.units.list("batch_1")] == [
        (0, "pending", 0),
        (1, "running", 1),
        (2, "pending", 0),
    ]


def test_units_list_in_order_within_a_range(stores: Stores) -> None:
    for number in (2, 0, 3, 1):
        stores.units.put_all([new_unit(number)], ttl=NOW)
    stores.units.put_all([new_unit(0, batch_id="batch_2")], ttl=NOW)

    assert [unit.unit for unit in stores.units.list("batch_1")] == [0, 1, 2, 3]
    assert [unit.unit for unit in stores.units.list("batch_1", first_unit=1, last_unit=2)] == [1, 2]
    assert [unit.unit for unit in stores.units.list("batch_1", first_unit=2)] == [2, 3]
    assert stores.units.get("batch_1", 7) is None


def block_change(*, units_ended: int = 0, output_bytes: int = 0, error_bytes: int = 0, **lines: int) -> BlockChange:
    return BlockChange(
        block=0, ttl=NOW, lines=lines, units_ended=units_ended, output_bytes=output_bytes, error_bytes=error_bytes
    )


def usage(input_tokens: int, output_tokens: int) -> Usage:
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens)
