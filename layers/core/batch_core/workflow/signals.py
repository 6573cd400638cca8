"""The task-token handshake: the workflow waits with a token; the finisher or a cancel answers it."""

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition
from batch_core.models.status import ACTIVE, BatchStatus
from batch_core.workflow.loading import load_batch


def await_lines(stores: Stores, batch_id: str, task_token: str) -> None:
    """Keeps the token the finisher (or a cancel) will answer, and answers it at once if that moment passed."""
    try:
        batch = stores.batches.update(batch_id, while_in=ACTIVE, changes={"task_token": task_token})
    except InvalidTransition:
        stores.workflow.signal_done(task_token)
        return
    if batch.every_line_done:
        stores.workflow.signal_done(task_token)
    elif batch.status == BatchStatus.CANCELLING and not batch.cancel_swept:
        stores.workflow.signal_cancelled(task_token)


def signal_if_finished(stores: Stores, batch_id: str) -> bool:
    """Called after a unit's lines all finished: the one caller that sees every line done wakes the workflow."""
    batch = load_batch(stores, batch_id)
    if not batch.every_line_done or not stores.batches.claim_finisher(batch_id):
        return False
    if batch.task_token:
        stores.workflow.signal_done(batch.task_token)
    return True
