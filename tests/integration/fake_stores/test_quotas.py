import time
from concurrent.futures import ThreadPoolExecutor

from batch_core.dal.stores import Stores
from batch_core.errors import QuotaExceeded
from batch_core.models.quota import TenantQuota
from batch_core.quotas import release, reserve, set_limits
from batch_core.settings import Settings

SETTINGS = Settings()


def _reserve(stores: Stores, batch_id: str) -> str:
    try:
        reserve(stores, SETTINGS, "t", batch_id, lines=10, tokens=100, until=int(time.time()) + 60)
    except QuotaExceeded as refused:
        return refused.quota
    return "held"


def test_concurrent_creates_are_admitted_only_up_to_the_quota(stores: Stores) -> None:
    set_limits(stores, "t", TenantQuota(batches_in_progress=3))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = sorted(pool.map(lambda n: _reserve(stores, f"batch_{n}"), range(8)))

    assert answers == ["batches_in_progress"] * 5 + ["held"] * 3
    held = stores.quotas.get("t")
    assert (len(held.reservations), held.limits.batches_in_progress) == (3, 3)


def test_arelease_frees_only_its_batch_and_a_secondrelease_changes_nothing(stores: Stores) -> None:
    for batch_id in ("batch_a", "batch_b"):
        _reserve(stores, batch_id)

    release(stores, "t", "batch_a")
    release(stores, "t", "batch_a")

    assert list(stores.quotas.get("t").reservations) == ["batch_b"]
    assert stores.quotas.get("other").reservations == {}
