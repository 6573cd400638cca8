import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

import pytest

from batch_core.dal.limits_db import LimitStore
from batch_core.dal.stores import Stores
from batch_core.dal.versioned import VersionedRecords
from batch_core.errors import StorageError
from batch_core.flow.shared import SharedLimiter
from batch_core.models.limit import LimitState, Report
from batch_core.models.route import Route, RouteLimits
from tests.waiting import wait_for

Result = TypeVar("Result")


def _add_one(state: LimitState, now: float) -> tuple[LimitState, float]:
    return state.model_copy(update={"requests": state.requests + 1, "at": now}), state.requests


def test_a_limiter_record_starts_empty_and_each_change_sees_the_last(stores: Stores) -> None:
    seen = [stores.limits.change("route", "model", _add_one) for _ in range(3)]

    assert seen == [0.0, 1.0, 2.0]


def test_concurrent_changes_of_one_limiter_record_are_each_applied_once(stores: Stores) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = sorted(pool.map(lambda _: stores.limits.change("route", "model", _add_one), range(8)))

    assert seen == [float(n) for n in range(8)]
    assert stores.limits.change("other", "model", _add_one) == 0.0


class _Contended:
    """The limiter's records with another executor's change landing between each change's read and its write."""

    def __init__(self, records: LimitStore):
        self._records = records
        self.rivals = 0

    def change(
        self,
        route: str,
        model: str,
        change: Callable[[LimitState, float], tuple[LimitState, Result]],
        stands: Callable[[Result], bool] | None = None,
    ) -> Result:
        def raced(state: LimitState, now: float) -> tuple[LimitState, Result]:
            self._records.change(route, model, _add_one)
            self.rivals += 1
            return change(state, now)

        return self._records.change(route, model, raced, stands)


@pytest.mark.parametrize("stores", ["moto"], indirect=True)
def test_a_route_nothing_bounds_runs_every_line_though_each_limiter_write_loses(stores: Stores) -> None:
    contended = _Contended(stores.limits)
    shared = SharedLimiter(cast(LimitStore, contended))
    route = Route(name="open", base_url="http://upstream")

    grant = shared.take(route, "m", [10] * 50, tenant="t", holder="h", until=time.time() + 60)
    shared.report(route, "m", "h", Report(sent=50, succeeded=50))

    assert (grant.count, grant.reason, grant.offsets) == (50, None, [0.0] * 50)
    assert contended.rivals == 2


@pytest.mark.parametrize("stores", ["moto"], indirect=True)
def test_a_bounded_route_tries_its_take_again_until_it_wins_the_record(stores: Stores) -> None:
    route = Route(name="capped", base_url="http://upstream", limits=RouteLimits(max_in_flight=80))
    first = _Contended(stores.limits)
    shared = SharedLimiter(cast(LimitStore, first))

    with pytest.raises(StorageError, match="kept changing"):
        shared.take(route, "m", [10] * 50, tenant="t", holder="h", until=time.time() + 60)
    granted = SharedLimiter(stores.limits).take(route, "m", [10] * 50, tenant="t", holder="h", until=time.time() + 60)

    assert first.rivals == 8
    assert (granted.count, granted.reason) == (50, None)


@pytest.mark.parametrize("stores", ["moto"], indirect=True)
def test_a_route_nothing_bounds_grants_its_lines_without_waiting_for_the_limiter_write(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()
    write = VersionedRecords._write
    monkeypatch.setattr(VersionedRecords, "_write", lambda *args: released.wait(10) and write(*args))
    route = Route(name="open", base_url="http://upstream")

    grant = SharedLimiter(stores.limits).take(route, "m", [10] * 5, tenant="t", holder="h", until=time.time() + 60)
    sent_before = stores.limits.change("open", "m", _sent)
    released.set()

    assert (grant.count, grant.reason, sent_before) == (5, None, 0)
    assert wait_for(lambda: stores.limits.change("open", "m", _sent) == 5, timeout=5)


def _sent(state: LimitState, now: float) -> tuple[LimitState, int]:
    return state, state.window_sent
