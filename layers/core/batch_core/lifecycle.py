"""What follows every change of a batch's status: its event on the bus, and when it ends, its metrics and the
release of what it held of its tenant's quotas."""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from batch_core.dal.stores import Stores
from batch_core.errors import StorageError
from batch_core.models.batch import Batch
from batch_core.models.status import BatchStatus
from batch_core.observability import logger, metrics
from batch_core.quotas import release


def transition(stores: Stores, batch_id: str, *, to: BatchStatus, changes: dict[str, Any] | None = None) -> Batch:
    """The batch store's transition (InvalidTransition when the status table forbids it), then its event."""
    batch = stores.batches.transition(batch_id, to=to, changes=changes)
    changed(stores, batch)
    return batch


def changed(stores: Stores, batch: Batch) -> None:
    """Puts the batch's new status on the bus; an ended batch also counts in Batches<Status> and
    BatchDuration. The status change is already stored: a bus that cannot be reached is logged, not raised,
    so the batch's own progress never waits on its listeners."""
    if batch.status == BatchStatus.VALIDATING:
        metrics.add_metric(name="BatchesCreated", unit=MetricUnit.Count, value=1)
    if batch.is_terminal:
        metrics.add_metric(name=f"Batches{batch.status.capitalize()}", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="BatchDuration", unit=MetricUnit.Seconds, value=int(time.time()) - batch.created_at)
        _release_quota(stores, batch)
    try:
        stores.events.put(status_change(batch))
    except StorageError as failed:
        logger.error("batch event lost", extra={"batch_id": batch.id, "status": batch.status, "error": str(failed)})


def _release_quota(stores: Stores, batch: Batch) -> None:
    # A release that cannot be written is lost, not raised: the reservation lapses at the batch's window.
    try:
        release(stores, batch.tenant_id, batch.id)
    except StorageError as failed:
        logger.error("quota release lost", extra={"batch_id": batch.id, "error": str(failed)})


def status_change(batch: Batch) -> dict[str, Any]:
    """The event's detail: the batch's id, tenant, status, line counts and timestamps."""
    return {
        "id": batch.id,
        "tenant_id": batch.tenant_id,
        "status": batch.status,
        "endpoint": batch.endpoint,
        "request_counts": batch.request_counts.model_dump(),
        "created_at": batch.created_at,
        "in_progress_at": batch.started_at,
        "finalizing_at": batch.finalizing_at,
        "completed_at": batch.completed_at,
        "failed_at": batch.failed_at,
        "expired_at": batch.expired_at,
        "cancelling_at": batch.cancelling_at,
        "cancelled_at": batch.cancelled_at,
        "expires_at": batch.expires_at,
    }
