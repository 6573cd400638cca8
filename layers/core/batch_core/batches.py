"""Creating, reading, listing and cancelling batches: the rules both HTTP surfaces share."""

import secrets
import time

from batch_core.dal import storage
from batch_core.dal.batches_db import get_batch_in_db, list_batches_in_db, put_new_batch_in_db, update_batch_in_db
from batch_core.dal.workflow import signal_cancelled, start_workflow
from batch_core.errors import BatchNotFound, InvalidInput, InvalidTransition, StorageError
from batch_core.models.batch import Batch, CreateBatchRequest, RequestCounts, window_seconds
from batch_core.observability import logger
from batch_core.settings import get_settings
from batch_core.validation import LineValidator

CANCELLABLE = ("validating", "in_progress")


def new_batch_id() -> str:
    """Ids that sort by creation time (milliseconds, then randomness), so listing newest first is a key order."""
    return f"batch_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"


def create_batch(tenant_id: str, request: CreateBatchRequest) -> Batch:
    """Validates every line first: a rejected batch stores and queues nothing."""
    settings = get_settings()
    if (request.requests is None) == (request.input_file is None):
        raise InvalidInput("provide exactly one of 'requests' or 'input_file'", param="requests")
    if request.input_file is not None:
        raise InvalidInput("input_file is not supported by this deployment yet; send 'requests'", param="input_file")
    window = window_seconds(request.completion_window)
    if window < settings.min_completion_window_seconds:
        raise InvalidInput(
            f"completion_window must be at least {settings.min_completion_window_seconds} seconds",
            param="completion_window",
        )
    validator = LineValidator(request.endpoint, settings.max_lines_per_batch)
    lines = [validator.check(entry, number) for number, entry in enumerate(request.requests or [], start=1)]
    total = validator.finish()

    now = int(time.time())
    batch_id = new_batch_id()
    key = storage.input_key(tenant_id, batch_id)
    document = "".join(line.model_dump_json() + "\n" for line in lines)
    storage.put_object(key, document.encode())
    batch = Batch(
        id=batch_id,
        tenant_id=tenant_id,
        endpoint=request.endpoint,
        status="validating",
        completion_window=request.completion_window,
        input_key=key,
        output_bucket_key=request.output_bucket_key,
        metadata=request.metadata,
        request_counts=RequestCounts(total=total),
        created_at=now,
        expires_at=now + window,
    )
    put_new_batch_in_db(batch)
    _start(batch)
    logger.info("batch created", extra={"batch_id": batch_id, "lines": total})
    return batch


def _start(batch: Batch) -> None:
    try:
        start_workflow(batch.id, {"batch_id": batch.id})
    except StorageError:
        update_batch_in_db(
            batch.id,
            expected=("validating",),
            changes={"status": "failed", "failed_at": int(time.time()), "error_message": "the batch could not start"},
        )
        raise


def get_batch(tenant_id: str, batch_id: str) -> Batch:
    """The tenant's batch; another tenant's batch is indistinguishable from a missing one."""
    batch = get_batch_in_db(batch_id)
    if batch is None or batch.tenant_id != tenant_id:
        raise BatchNotFound(batch_id)
    return batch


def list_batches(tenant_id: str, *, status: str | None = None, limit: int = 50) -> list[Batch]:
    return list_batches_in_db(tenant_id, status=status, limit=max(1, min(limit, 500)))


def cancel_batch(tenant_id: str, batch_id: str) -> Batch:
    """Stops new lines from starting; running lines finish. Cancelling twice answers the same batch."""
    batch = get_batch(tenant_id, batch_id)
    if batch.status == "cancelling":
        return batch
    if batch.status not in CANCELLABLE:
        raise InvalidTransition(
            f"batch {batch_id} is {batch.status}; only validating or in_progress batches can be cancelled"
        )
    try:
        batch = update_batch_in_db(
            batch_id, expected=CANCELLABLE, changes={"status": "cancelling", "cancelling_at": int(time.time())}
        )
    except InvalidTransition:
        return cancel_batch(tenant_id, batch_id)
    if batch.task_token:
        signal_cancelled(batch.task_token)
    return batch
