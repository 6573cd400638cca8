"""The executor's rules on in-memory stores: an attempt runs a unit's lines, saves one object and counts them once."""

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from batch_core.batches import cancel_batch, create_batch
from batch_core.dal.stores import Stores
from batch_core.errors import AttemptUnfinished, StorageError
from batch_core.executor import fail_work_unit
from batch_core.flow.limiter import IN_FLIGHT_WAIT_SECONDS
from batch_core.models.batch import CreateBatchRequest, RequestCounts
from batch_core.models.console import ConsoleBatch
from batch_core.models.item import OutputLine
from batch_core.models.line import LineError
from batch_core.models.openai import OpenAIBatch
from batch_core.models.route import Route, RouteLimits, RouteTable
from batch_core.models.usage import Usage
from batch_core.models.view import CapacityWait
from batch_core.models.work_unit import WorkUnit
from batch_core.output_lines import read_outputs
from batch_core.prepare import prepare_batch
from batch_core.upstream import UpstreamReply, Upstreams
from batch_core.workflow.signals import await_lines
from tests.unit.fakes.limits import FakeLimitStore
from tests.unit.fakes.queue import Signal
from tests.unit.fakes.upstream import TableUpstream, answered, status
from tests.unit.given import (
    CHAT,
    SETTINGS,
    TENANT,
    created_from_file,
    current,
    file_line,
    new_stores,
    prepared,
    routed,
    run,
    uploaded,
)


def saved_lines(stores: Stores, batch_id: str, unit: int = 0) -> list[tuple[int, str | None, str]]:
    """What the unit's attempts stored, attempt after attempt: each line's index, custom id and status."""
    record = stores.units.get(batch_id, unit)
    assert record is not None
    return [
        (stored.header.index, OutputLine.model_validate_json(stored.line).custom_id, stored.header.status)
        for key in record.outputs
        for stored in read_outputs(stores.blobs.get(key))
    ]


def stored_errors(stores: Stores, key: str) -> list[LineError]:
    """The errors of the lines an attempt stored under `key`."""
    lines = [OutputLine.model_validate_json(stored.line) for stored in read_outputs(stores.blobs.get(key))]
    return [line.error for line in lines if line.error]


def test_a_unit_runs_its_lines_saves_them_in_one_object_and_counts_them() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream({"a": [answered("A", 5, 7)], "b": [status(400)], "c": [answered("C", 1, 1)]})
    await_lines(stores, batch.id, "token-1")

    wait = run(stores, stores.queue.sent[0], upstream)

    assert wait is None
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and (unit.state, unit.attempt, len(unit.outputs)) == ("done", 1, 1)
    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (1, "c1", "failed"), (2, "c2", "succeeded")]
    ended = current(stores, batch)
    assert ended.request_counts == RequestCounts(total=3, completed=2, failed=1)
    assert ended.usage == Usage(input_tokens=6, output_tokens=8, total_tokens=14)
    assert sorted(upstream.prompts) == ["a", "b", "c"]
    assert stores.workflow.signals == [Signal("done", "token-1")]


def test_a_redundant_message_for_a_done_unit_changes_nothing() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream()
    run(stores, stores.queue.sent[0], upstream, delivery="m1")
    before = (stores.units.get(batch.id, 0), current(stores, batch))

    wait = run(stores, stores.queue.sent[0], upstream, delivery="m2")

    assert wait is None
    assert (stores.units.get(batch.id, 0), current(stores, batch)) == before
    assert len(upstream.prompts) == 3


def test_a_message_for_a_unit_another_delivery_runs_changes_nothing() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    held = stores.units.claim(batch.id, 0, now=int(time.time()), lease_seconds=SETTINGS.lease_seconds, holder="m1")
    upstream = TableUpstream()

    wait = run(stores, stores.queue.sent[0], upstream, delivery="m2")

    assert wait is None
    assert stores.units.get(batch.id, 0) == held
    assert upstream.prompts == []


def test_a_redelivery_of_the_holders_own_message_waits_out_its_lease() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    stores.units.claim(batch.id, 0, now=int(time.time()), lease_seconds=SETTINGS.lease_seconds, holder="m1")

    with pytest.raises(AttemptUnfinished) as unfinished:
        run(stores, stores.queue.sent[0], TableUpstream(), delivery="m1")

    assert SETTINGS.lease_seconds - 2 <= unfinished.value.seconds <= SETTINGS.lease_seconds


def test_an_attempt_that_lost_its_lease_meanwhile_counts_nothing() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])

    def taken_over() -> UpstreamReply:
        # Another delivery takes the unit while this attempt still waits on the upstream.
        stores.units.claim(batch.id, 0, now=int(time.time()) + 999, lease_seconds=SETTINGS.lease_seconds, holder="m2")
        return answered("A")

    wait = run(stores, stores.queue.sent[0], TableUpstream({"a": [taken_over]}), delivery="m1")

    assert wait is None
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and (unit.state, unit.attempt, unit.holder, unit.outputs) == ("running", 2, "m2", [])
    assert current(stores, batch).request_counts == RequestCounts(total=3)


def test_a_line_that_cannot_start_before_the_deadline_spends_no_attempt() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream()
    too_late = SETTINGS.upstream_timeout_seconds + SETTINGS.save_margin_seconds - 1

    wait = run(stores, stores.queue.sent[0], upstream, seconds=too_late)

    assert wait == 0.0
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and (unit.state, unit.retries, unit.finished, unit.outputs) == ("pending", {}, set(), [])
    assert upstream.prompts == []


def test_a_passing_fault_runs_the_unit_again_after_the_retry_after() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream({"b": [status(503, retry_after=30)]})

    wait = run(stores, stores.queue.sent[0], upstream)

    assert wait == 30.0
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and (unit.state, unit.finished, unit.retries) == ("pending", {0, 2}, {1: 1})
    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (2, "c2", "succeeded")]


def test_a_rate_limited_line_waits_its_retry_after_without_spending_an_attempt() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream({"b": [status(429, retry_after=30)] * (SETTINGS.max_line_attempts + 2) + [answered("B")]})

    waits = []
    for _ in range(SETTINGS.max_line_attempts + 3):
        waits.append(run(stores, stores.queue.sent[0], upstream))
        stores.limits.skip(30)  # type: ignore[attr-defined]

    assert waits == [30.0] * (SETTINGS.max_line_attempts + 2) + [None]
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and (unit.state, unit.retries) == ("done", {})
    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (2, "c2", "succeeded"), (1, "c1", "succeeded")]


def test_a_429_for_an_exhausted_quota_is_a_fault_that_spends_attempts() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    quota = UpstreamReply(
        status=429,
        body=b'{"error": {"code": "insufficient_quota", "message": "You exceeded your current quota"}}',
        request_id="req-q",
        retry_after=None,
    )
    upstream = TableUpstream({"b": [quota]})

    for _ in range(SETTINGS.max_line_attempts):
        run(stores, stores.queue.sent[0], upstream)

    assert saved_lines(stores, batch.id)[-1] == (1, "c1", "failed")
    assert current(stores, batch).request_counts == RequestCounts(total=3, completed=2, failed=1)


def test_the_next_attempt_runs_only_the_lines_left() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream({"b": [status(503), answered("B")]})
    run(stores, stores.queue.sent[0], upstream)

    wait = run(stores, stores.queue.sent[0], upstream, delivery="m2")

    assert wait is None
    assert sorted(upstream.prompts) == ["a", "b", "b", "c"]
    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (2, "c2", "succeeded"), (1, "c1", "succeeded")]
    assert current(stores, batch).request_counts == RequestCounts(total=3, completed=3)


def test_a_dead_lettered_unit_fails_its_unfinished_lines_keeping_their_custom_ids() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    run(stores, stores.queue.sent[0], TableUpstream({"b": [status(500)], "c": [status(500)]}))

    failed = fail_work_unit(stores, SETTINGS, stores.queue.sent[0], "the unit kept failing")

    assert failed is True
    unit = stores.units.get(batch.id, 0)
    assert unit is not None and unit.state == "done"
    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (1, "c1", "failed"), (2, "c2", "failed")]
    assert [(error.code, error.message) for error in stored_errors(stores, unit.outputs[-1])] == [
        ("work_unit_failed", "the unit kept failing"),
        ("work_unit_failed", "the unit kept failing"),
    ]
    assert current(stores, batch).request_counts == RequestCounts(total=3, completed=1, failed=2)


def test_a_unit_reached_after_a_cancel_cancels_its_lines_at_once() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    cancel_batch(stores, TENANT, batch.id)
    upstream = TableUpstream()

    wait = run(stores, stores.queue.sent[1], upstream)

    assert wait is None
    assert [unit.state for unit in stores.units.list(batch.id)] == ["pending", "cancelled"]
    assert current(stores, batch).request_counts == RequestCounts(total=4, cancelled=1)
    assert upstream.prompts == []


def test_a_line_whose_bytes_no_longer_read_fails_alone() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    lines = stores.blobs.get(batch.input_key).split(b"\n")
    # The same length, so the unit's byte range still holds every line; the body is no longer an object.
    lines[1] = b'{"custom_id": "c1", "body": 1}'.ljust(len(lines[1]))
    stores.blobs.put(batch.input_key, b"\n".join(lines))

    run(stores, stores.queue.sent[0], TableUpstream())

    assert saved_lines(stores, batch.id) == [(0, "c0", "succeeded"), (1, "c1", "failed"), (2, "c2", "succeeded")]
    unit = stores.units.get(batch.id, 0)
    assert unit is not None
    assert [error.code for error in stored_errors(stores, unit.outputs[0])] == ["invalid_request"]


def test_lines_held_back_for_capacity_show_on_the_batch_until_they_run() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    one_at_a_time = routed(TableUpstream(), RouteLimits(max_in_flight=1))

    first_wait = run(stores, stores.queue.sent[0], one_at_a_time)
    waiting = current(stores, batch)
    later_waits = [run(stores, stores.queue.sent[0], one_at_a_time) for _ in range(2)]
    ended = current(stores, batch)

    assert first_wait == IN_FLIGHT_WAIT_SECONDS and later_waits == [IN_FLIGHT_WAIT_SECONDS, None]
    assert waiting.waiting_since is not None
    assert ConsoleBatch.of(waiting).waiting_for_capacity == CapacityWait(lines=2, since=waiting.waiting_since)
    assert OpenAIBatch.of(waiting).waiting_for_capacity == CapacityWait(lines=2, since=waiting.waiting_since)
    assert (ended.lines_waiting, ended.waiting_since, ended.request_counts.completed) == (0, None, 3)
    assert ConsoleBatch.of(ended).waiting_for_capacity is None


def test_lines_of_one_unit_go_to_the_upstream_their_model_routes_to() -> None:
    stores = new_stores()
    requests = [
        {"custom_id": f"c{n}", "body": {"model": model, "messages": [{"role": "user", "content": f"{model} {n}"}]}}
        for n, model in enumerate(["gpt-a", "gpt-b", "gpt-a"])
    ]
    batch = create_batch(stores, SETTINGS, TENANT, CreateBatchRequest(endpoint=CHAT, requests=requests))
    prepare_batch(stores, SETTINGS, batch.id)
    first, second = TableUpstream(), TableUpstream()
    routes = RouteTable(
        routes=[
            Route(name="a", models=["gpt-a"], base_url="http://a.test/v1"),
            Route(name="b", models=["gpt-b*"], base_url="http://b.test/v1"),
        ]
    )

    run(stores, stores.queue.sent[0], Upstreams(routes, lambda route: first if route.name == "a" else second))

    assert sorted(first.prompts) == ["gpt-a 0", "gpt-a 2"] and second.prompts == ["gpt-b 1"]
    assert current(stores, batch).request_counts == RequestCounts(total=3, completed=3)
    assert set(stores.limits.records) == {("a", "gpt-a"), ("b", "gpt-b")}  # type: ignore[attr-defined]


def test_lines_wait_without_spending_attempts_while_the_limiter_cannot_be_reached() -> None:
    class UnreachableLimits:
        def change(self, route: str, model: str, change: object, stands: object) -> object:
            raise StorageError("the limiter's table did not answer")

    stores = dataclasses.replace(new_stores(), limits=UnreachableLimits())
    batch = prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream()

    wait = run(stores, stores.queue.sent[0], upstream)

    unit = stores.units.get(batch.id, 0)
    assert wait is not None and 1.0 <= wait <= 3.0
    assert unit is not None and (unit.state, unit.retries, unit.waiting) == ("pending", {}, 3)
    assert upstream.prompts == []


def test_a_new_container_connects_to_its_route_while_the_limiter_grants_the_lines() -> None:
    connected = threading.Event()
    granted_after_connecting: list[bool] = []

    class SlowLimits(FakeLimitStore):
        def change(self, route: str, model: str, change: Callable[..., Any], stands: Any = None) -> Any:
            if not granted_after_connecting:
                granted_after_connecting.append(connected.wait(5))
            return super().change(route, model, change, stands)

    def connect(route: Route) -> TableUpstream:
        connected.set()
        return TableUpstream()

    stores = dataclasses.replace(new_stores(), limits=SlowLimits())
    batch = prepared(stores, ["a", "b"])
    table = RouteTable(routes=[Route(name="default", base_url="http://upstream.test/v1")])

    run(stores, stores.queue.sent[0], Upstreams(table, connect))

    assert granted_after_connecting == [True]
    assert current(stores, batch).request_counts == RequestCounts(total=2, completed=2)


def test_a_unit_queued_while_its_input_is_validated_is_held_until_the_input_proves_valid_then_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    batch = created_from_file(stores, uploaded(stores, [file_line(f"c{n}", f"p{n}") for n in range(78)]))
    validated = threading.Event()
    plan = stores.batches.plan
    monkeypatch.setattr(stores.batches, "plan", lambda *args, **kwargs: validated.wait(10) and plan(*args, **kwargs))
    preparing = threading.Thread(target=prepare_batch, args=(stores, SETTINGS, batch.id))
    preparing.start()
    while len(stores.queue.sent) < 2:
        time.sleep(0.01)
    upstream = TableUpstream()

    with ThreadPoolExecutor(max_workers=1) as executor:
        held = executor.submit(run, stores, stores.queue.sent[0], upstream)
        time.sleep(0.5)
        prompts_while_held = list(upstream.prompts)
        validated.set()
        wait = held.result(timeout=10)
    preparing.join(timeout=10)

    assert prompts_while_held == []
    assert (wait, sorted(upstream.prompts)) == (None, ["p0", "p1", "p2"])
    assert current(stores, batch).request_counts.completed == 3


def test_a_unit_still_unplanned_when_its_hold_ends_goes_back_to_the_queue_without_running() -> None:
    stores = new_stores()
    batch = created_from_file(stores, uploaded(stores, [file_line(f"c{n}", f"p{n}") for n in range(3)]))
    unit = WorkUnit(batch_id=batch.id, tenant_id=TENANT, unit=0, first=0, count=3, byte_start=0, byte_end=1)
    upstream = TableUpstream()

    wait = run(stores, unit, upstream, seconds=0.5)

    assert (wait, upstream.prompts, list(stores.units.list(batch.id))) == (1.0, [], [])
