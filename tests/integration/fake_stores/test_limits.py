from concurrent.futures import ThreadPoolExecutor

from batch_core.dal.stores import Stores
from batch_core.models.limit import LimitState


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
