"""The workflow's view of a batch: when it is done, when it is cancelled or expired, and who says so."""

import math
import time
from typing import Any, Literal

from pydantic import BaseModel

from batch_core.dal.stores import Stores
from batch_core.errors import BatchNotFound, InvalidTransition
from batch_core.models.batch import Batch
from batch_core.models.status import ACTIVE, TERMINAL, BatchStatus, UnitState, unit_sources
from batch_core.models.work_unit import UnitRecord
from batch_core.observability import logger
from batch_core.settings import Settings

# Step Functions ends an execution that reaches 25,000 history events, outside every Catch, so the
# watchdog cycles (Check, Route, AwaitLines) over the longest window must fit with everything else.
# A cycle is 13 events (Check: entered, scheduled, started, succeeded, exited; Route: entered, exited;
# AwaitLines: entered, scheduled, started, submitted, timed out, exited), measured on the real ASL by
# tests/integration/test_workflow_endings.py; EVENTS_PER_CYCLE keeps one spare. A retried task adds 3 events
# (failed, scheduled, started), measured by tests/integration/test_transient_errors.py. Every task retries a
# transient error (StorageError, Lambda's own) TASK_RETRIES times: the core's boto3 clients already retried
# each call 5 times, so these retries, 1 s doubling to 32 s, outlast a passing AWS fault.
# tests/unit/test_workflow_retries.py holds statemachine/batch.asl.json to these figures.
HISTORY_LIMIT = 25_000
EVENTS_PER_CYCLE = 14
EVENTS_PER_RETRY = 3
TASK_RETRIES = 6
OUTSIDE_CYCLES_EVENTS = 210  # every state once, each task with every retry the ASL allows it
RETRIED_CYCLES = 20  # cycles whose Check and AwaitLines both spend every retry
RETRY_EVENTS = RETRIED_CYCLES * 2 * TASK_RETRIES * EVENTS_PER_RETRY
EARLY_WAKES = 10  # cycles cut short by the finisher, a cancel, or a signal answered at once (each at most twice)
MAX_CYCLES = (HISTORY_LIMIT - OUTSIDE_CYCLES_EVENTS - RETRY_EVENTS) // EVENTS_PER_CYCLE - EARLY_WAKES - 1


class Decision(BaseModel):
    """What the workflow does next: wait for lines, finish, expire, or stop (the batch already ended)."""

    next: Literal["await", "finalize", "expire", "end"]
    outcome: Literal["completed", "cancelled", "expired"] | None = None
    wait_seconds: int = 0


def load_batch(stores: Stores, batch_id: str) -> Batch:
    batch = stores.batches.get(batch_id, consistent=True)
    if batch is None:
        raise BatchNotFound(batch_id)
    return batch


def is_finished(batch: Batch) -> bool:
    return batch.request_counts.done >= batch.request_counts.total


def await_lines(stores: Stores, batch_id: str, task_token: str) -> None:
    """Keeps the token the finisher (or a cancel) will answer, and answers it at once if that moment passed."""
    try:
        batch = stores.batches.update(batch_id, while_in=ACTIVE, changes={"task_token": task_token})
    except InvalidTransition:
        stores.workflow.signal_done(task_token)
        return
    if is_finished(batch):
        stores.workflow.signal_done(task_token)
    elif batch.status == BatchStatus.CANCELLING and not batch.cancel_swept:
        stores.workflow.signal_cancelled(task_token)


def check_batch(stores: Stores, settings: Settings, batch_id: str) -> Decision:
    """Decides the next step from the stored counters; also the watchdog, so a lost signal costs only time."""
    batch = load_batch(stores, batch_id)
    if batch.status in TERMINAL:
        return Decision(next="end")
    if batch.status == BatchStatus.CANCELLING:
        close_units(stores, batch, to=UnitState.CANCELLED)
        batch = stores.batches.update(batch_id, while_in={BatchStatus.CANCELLING}, changes={"cancel_swept": True})
    if is_finished(batch):
        return Decision(next="finalize", outcome="cancelled" if batch.status == BatchStatus.CANCELLING else "completed")
    now = int(time.time())
    if now >= batch.expires_at:
        return Decision(next="expire", outcome="expired")
    wait = watchdog_wait(batch.expires_at - batch.created_at, batch.expires_at - now, settings.watchdog_seconds)
    return Decision(next="await", wait_seconds=wait)


def watchdog_wait(window_seconds: int, left_seconds: int, watchdog_seconds: int) -> int:
    """The watchdog period, stretched so the cycles over the whole window fit the execution's history;
    never past the window's end."""
    wait = max(watchdog_seconds, math.ceil(window_seconds / MAX_CYCLES))
    return max(1, min(wait, left_seconds))


def expire_batch(stores: Stores, batch_id: str) -> Decision:
    """Lines not finished inside the completion window end `expired`; finished results stay."""
    close_units(stores, load_batch(stores, batch_id), to=UnitState.EXPIRED)
    return Decision(next="finalize", outcome="expired")


def close_units(stores: Stores, batch: Batch, *, to: UnitState) -> int:
    """Moves every unit that may move to `to` there; returns how many moved."""
    closed = 0
    for unit in stores.units.list(batch.id):
        closed += close_unit(stores, unit, to=to)
    return closed


def close_unit(stores: Stores, unit: UnitRecord | None, *, to: UnitState) -> bool:
    """Retries while a concurrent attempt changes the unit under us; stops once it may no longer move to `to`."""
    for _ in range(5):
        if unit is None or unit.state not in unit_sources(to):
            return False
        if stores.units.close(unit, to=to):
            return True
        unit = stores.units.get(unit.batch_id, unit.unit)
    logger.warning("unit kept changing while closing", extra={"unit": unit.unit if unit else None})
    return False


def signal_if_finished(stores: Stores, batch_id: str) -> bool:
    """Called after a unit's lines all finished: the one caller that sees every line done wakes the workflow."""
    batch = load_batch(stores, batch_id)
    if not is_finished(batch) or not stores.batches.claim_finisher(batch_id):
        return False
    if batch.task_token:
        stores.workflow.signal_done(batch.task_token)
    return True


def mark_failed(stores: Stores, batch_id: str, message: str, errors: list[dict[str, Any]] | None = None) -> str:
    """Ends the batch `failed`; returns its status, which stays what it was if it had already ended."""
    try:
        stores.batches.transition(
            batch_id,
            to=BatchStatus.FAILED,
            changes={"failed_at": int(time.time()), "error_message": message, "errors": errors or []},
        )
    except InvalidTransition:
        return load_batch(stores, batch_id).status
    return BatchStatus.FAILED
