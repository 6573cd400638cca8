"""What the workflow does next with a batch, decided from its stored counters, and how it ends one."""

import time
from typing import Any, Literal

from pydantic import BaseModel

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition
from batch_core.lifecycle import transition
from batch_core.models.status import TERMINAL, BatchStatus, UnitState
from batch_core.settings import Settings
from batch_core.workflow.closing import close_units
from batch_core.workflow.loading import load_batch
from batch_core.workflow.watchdog import watchdog_wait


class Decision(BaseModel):
    """What the workflow does next: wait for lines, finish, expire, or stop (the batch already ended)."""

    next: Literal["await", "finalize", "expire", "end"]
    outcome: Literal["completed", "cancelled", "expired"] | None = None
    wait_seconds: int = 0


def check_batch(stores: Stores, settings: Settings, batch_id: str) -> Decision:
    """Decides the next step from the stored counters; also the watchdog, so a lost signal costs only time."""
    batch = load_batch(stores, batch_id)
    if batch.status in TERMINAL:
        return Decision(next="end")
    if batch.status == BatchStatus.CANCELLING:
        close_units(stores, settings, batch, to=UnitState.CANCELLED)
        batch = stores.batches.update(batch_id, while_in={BatchStatus.CANCELLING}, changes={"cancel_swept": True})
    if batch.every_line_done:
        return Decision(next="finalize", outcome="cancelled" if batch.status == BatchStatus.CANCELLING else "completed")
    now = int(time.time())
    if now >= batch.expires_at:
        return Decision(next="expire", outcome="expired")
    wait = watchdog_wait(batch.expires_at - batch.created_at, batch.expires_at - now, settings.watchdog_seconds)
    return Decision(next="await", wait_seconds=wait)


def expire_batch(stores: Stores, settings: Settings, batch_id: str) -> int:
    """Lines not finished inside the completion window end `expired`; finished results stay.
    Returns how many units closed."""
    return close_units(stores, settings, load_batch(stores, batch_id), to=UnitState.EXPIRED)


def mark_failed(stores: Stores, batch_id: str, message: str, errors: list[dict[str, Any]] | None = None) -> str:
    """Ends the batch `failed`; returns its status, which stays what it was if it had already ended."""
    try:
        transition(
            stores,
            batch_id,
            to=BatchStatus.FAILED,
            changes={"failed_at": int(time.time()), "error_message": message, "errors": errors or []},
        )
    except InvalidTransition:
        return load_batch(stores, batch_id).status
    return BatchStatus.FAILED
