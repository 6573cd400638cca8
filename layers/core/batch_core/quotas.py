"""Per-tenant quotas: the batches in progress, and the lines and estimated tokens they hold until they end.

A batch reserves its share when it is created, before anything of it is stored; a batch made from a file
reserves its lines and tokens when prepare has counted them, or, for a file its upload's check counted, before
prepare cuts it. Ending releases the reservation, and one whose
release was lost holds nothing past the batch's window."""

from collections.abc import Iterator
from contextlib import contextmanager

from batch_core.dal.stores import Stores
from batch_core.errors import QuotaExceeded
from batch_core.models.quota import QuotaAmounts, QuotaName, QuotaState, Reservation, TenantQuota
from batch_core.settings import Settings


def limits_of(settings: Settings, state: QuotaState) -> QuotaAmounts:
    """The tenant's limits: its own where set, else the deployment's."""
    own = state.limits
    return QuotaAmounts(
        batches_in_progress=_either(own.batches_in_progress, settings.quota_batches_in_progress),
        enqueued_lines=_either(own.enqueued_lines, settings.quota_enqueued_lines),
        enqueued_tokens=_either(own.enqueued_tokens, settings.quota_enqueued_tokens),
    )


def reserve(
    stores: Stores, settings: Settings, tenant_id: str, batch_id: str, *, lines: int, tokens: int, until: int
) -> None:
    """Holds the batch's share, or raises QuotaExceeded naming the first quota it would pass (nothing held).
    Reserving again for the same batch replaces what it held."""

    def hold(state: QuotaState, now: float) -> tuple[QuotaState, None]:
        limits, use = limits_of(settings, state), state.use(now, excluding=batch_id)
        asked = QuotaAmounts(batches_in_progress=1, enqueued_lines=lines, enqueued_tokens=tokens)
        for name in QuotaName:
            limit, in_use, wanted = getattr(limits, name), getattr(use, name), getattr(asked, name)
            if in_use + wanted > limit:
                raise QuotaExceeded(name, limit, in_use, wanted)
        held = {**state.live(now), batch_id: Reservation(lines=lines, tokens=tokens, until=until)}
        return state.model_copy(update={"reservations": held}), None

    stores.quotas.change(tenant_id, hold)


@contextmanager
def holding(
    stores: Stores, settings: Settings, tenant_id: str, batch_id: str, *, lines: int, tokens: int, until: int
) -> Iterator[None]:
    """Reserves, and releases again if the batch then cannot be created."""
    reserve(stores, settings, tenant_id, batch_id, lines=lines, tokens=tokens, until=until)
    try:
        yield
    except BaseException:
        release(stores, tenant_id, batch_id)
        raise


def set_limits(stores: Stores, tenant_id: str, limits: TenantQuota) -> None:
    """The tenant's own limits; a field left None keeps the deployment's default."""
    stores.quotas.change(tenant_id, lambda state, now: (state.model_copy(update={"limits": limits}), None))


def release(stores: Stores, tenant_id: str, batch_id: str) -> None:
    """Frees what the batch held; releasing it again changes nothing."""

    def drop(state: QuotaState, now: float) -> tuple[QuotaState, None]:
        if batch_id not in state.reservations:
            return state, None
        kept = {held_by: held for held_by, held in state.live(now).items() if held_by != batch_id}
        return state.model_copy(update={"reservations": kept}), None

    stores.quotas.change(tenant_id, drop)


def _either(own: int | None, default: int) -> int:
    return default if own is None else own
