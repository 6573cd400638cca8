"""The workflow's decisions on in-memory stores: await, finalize, expire or end; cancel sweeps; one finisher."""

import time
from typing import Any

import pytest

from batch_core.batches import cancel_batch
from batch_core.finalize import finalize_batch
from batch_core.models.batch import RequestCounts
from batch_core.models.status import ACTIVE
from batch_core.upstream import UpstreamReply
from batch_core.workflow.decisions import Decision, check_batch, expire_batch, mark_failed
from batch_core.workflow.signals import await_lines, signal_if_finished
from tests.unit.fakes.queue import Signal
from tests.unit.fakes.upstream import TableUpstream, answered
from tests.unit.given import SETTINGS, TENANT, current, new_stores, prepared, run, run_all

AWAIT = Decision(next="await", wait_seconds=SETTINGS.watchdog_seconds)


def test_a_batch_with_lines_left_awaits_them_for_the_watchdog_period() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])

    assert check_batch(stores, SETTINGS, batch.id) == AWAIT


def test_a_batch_whose_lines_all_ended_is_finalized_completed() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    run_all(stores)

    assert check_batch(stores, SETTINGS, batch.id) == Decision(next="finalize", outcome="completed")


def test_a_batch_past_its_window_expires_and_its_unfinished_units_with_it() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d", "e", "f", "g"])
    run(stores, stores.queue.sent[0])
    stores.units.claim(batch.id, 1, now=int(time.time()), lease_seconds=SETTINGS.lease_seconds)
    stores.batches.update(batch.id, while_in=ACTIVE, changes={"expires_at": int(time.time()) - 1})

    decision = check_batch(stores, SETTINGS, batch.id)
    closed = expire_batch(stores, SETTINGS, batch.id)

    assert decision == Decision(next="expire", outcome="expired")
    assert closed == 2
    assert [unit.state for unit in stores.units.list(batch.id)] == ["done", "expired", "expired"]
    assert current(stores, batch).request_counts == RequestCounts(total=7, completed=3, expired=4)


def test_an_ended_batch_ends_the_workflow() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a"])
    mark_failed(stores, batch.id, "it broke")

    assert check_batch(stores, SETTINGS, batch.id) == Decision(next="end")


def test_a_cancel_sweeps_pending_units_and_finalizes_once_the_running_lines_end() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    decisions: list[Decision] = []

    def cancelled_meanwhile() -> UpstreamReply:
        cancel_batch(stores, TENANT, batch.id)
        decisions.append(check_batch(stores, SETTINGS, batch.id))
        return answered("A")

    run_all(stores, TableUpstream({"a": [cancelled_meanwhile]}))
    decisions.append(check_batch(stores, SETTINGS, batch.id))

    assert decisions == [AWAIT, Decision(next="finalize", outcome="cancelled")]
    assert [unit.state for unit in stores.units.list(batch.id)] == ["done", "cancelled"]
    ended = current(stores, batch)
    assert (ended.status, ended.cancel_swept) == ("cancelling", True)
    assert ended.request_counts == RequestCounts(total=4, completed=3, cancelled=1)


def test_the_finisher_is_claimed_once_and_signals_once() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    await_lines(stores, batch.id, "token-1")
    run_all(stores)

    again = signal_if_finished(stores, batch.id)

    assert again is False
    assert stores.workflow.signals == [Signal("done", "token-1")]


def test_waiting_for_lines_that_already_ended_answers_at_once() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    run_all(stores)

    await_lines(stores, batch.id, "token-1")

    assert stores.workflow.signals == [Signal("done", "token-1")]


def test_waiting_on_a_cancel_not_yet_swept_answers_it_at_once() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    cancel_batch(stores, TENANT, batch.id)

    await_lines(stores, batch.id, "token-1")

    assert stores.workflow.signals == [Signal("cancelled", "token-1")]
    assert current(stores, batch).task_token == "token-1"


def test_waiting_on_an_ended_batch_answers_at_once() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a"])
    mark_failed(stores, batch.id, "it broke")

    await_lines(stores, batch.id, "token-1")

    assert stores.workflow.signals == [Signal("done", "token-1")]


def test_a_failure_ends_an_active_batch_and_leaves_an_ended_one_as_it_was() -> None:
    stores = new_stores()
    active = prepared(stores, ["a"])
    finished = prepared(stores, ["b"])
    run_all(stores)
    finalize_batch(stores, SETTINGS, finished.id, "completed")
    errors = [{"code": "invalid_input", "message": "bad", "line": 1, "param": None}]

    statuses = [mark_failed(stores, active.id, "it broke", errors), mark_failed(stores, finished.id, "too late")]

    assert statuses == ["failed", "completed"]
    failed = current(stores, active)
    assert (failed.status, failed.error_message, failed.errors) == ("failed", "it broke", errors)
    assert failed.failed_at is not None
    assert current(stores, finished).error_message is None


def test_a_cancel_sweep_closes_forty_units_to_a_write_and_a_group_that_changed_meanwhile_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    batch = prepared(stores, [f"p{n}" for n in range(300)])
    run(stores, stores.queue.sent[50])
    cancel_batch(stores, TENANT, batch.id)
    writes: list[int] = []
    close = stores.units.close

    def counted(units: Any, **options: Any) -> bool:
        writes.append(len(units))
        if len(writes) == 2:
            # An attempt took a unit of the second group after the sweep read it: the group is refused as a whole.
            stores.units.claim(batch.id, 60, now=int(time.time()), lease_seconds=SETTINGS.lease_seconds)
        return close(units, **options)

    monkeypatch.setattr(stores.units, "close", counted)
    check_batch(stores, SETTINGS, batch.id)

    assert writes == [40, 40, *[1] * 39, 19]
    states = {unit.unit: unit.state for unit in stores.units.list(batch.id)}
    assert (states.pop(50), states.pop(60), set(states.values())) == ("done", "running", {"cancelled"})
    assert current(stores, batch).request_counts == RequestCounts(total=300, completed=3, cancelled=294)
