"""Creating, retrying, reading, listing and cancelling batches: the rules both HTTP surfaces share."""

import json
import time
from typing import Any

from batch_core.buckets import check_bucket_name, object_location
from batch_core.dal.stores import Stores
from batch_core.errors import (
    BatchNotFound,
    FileNotFound,
    InvalidInput,
    InvalidTransition,
    ObjectNotFound,
    QuotaExceeded,
    StorageError,
)
from batch_core.files import check_expires_after, get_file, register_input_file
from batch_core.flow.estimate import estimated_tokens
from batch_core.ids import new_id
from batch_core.lifecycle import changed, transition
from batch_core.models.batch import (
    Batch,
    BatchOptions,
    CreateBatchRequest,
    FileRef,
    OpenAICreateBatch,
    RequestCounts,
    window_seconds,
)
from batch_core.models.bounds import MAX_ID_CHARS, MAX_METADATA_KEYS, OPENAI_MAX_INPUT_BYTES
from batch_core.models.file import ExpiresAfter, input_file_id
from batch_core.models.status import BatchStatus, batch_sources
from batch_core.observability import logger
from batch_core.pages import page_limit
from batch_core.quotas import holding
from batch_core.retry_lines import unsucceeded_lines
from batch_core.settings import Settings
from batch_core.validation import LineValidator

RETRY_OF = "retry_of"


def create_batch(stores: Stores, settings: Settings, tenant_id: str, request: CreateBatchRequest) -> Batch:
    """Validates every line first: a rejected batch stores and queues nothing."""
    if (request.requests is None) == (request.input_file is None):
        raise InvalidInput("provide exactly one of 'requests' or 'input_file'", param="requests")
    if request.output_bucket_key is not None:
        check_bucket_name(request.output_bucket_key, param="output_bucket_key")
    window = _window_seconds(settings, request)
    if request.input_file is not None:
        return _create_from_bucket(stores, settings, tenant_id, request, request.input_file, window)
    with LineValidator(request.endpoint, settings.max_lines_per_batch) as validator:
        lines = [validator.check(entry, number) for number, entry in enumerate(request.requests or [], start=1)]
        total = validator.finish()
    batch_id = new_id("batch_")
    key = stores.blobs.input_key(tenant_id, batch_id)
    document = b"".join(line + b"\n" for line in lines if line)
    with holding(stores, settings, tenant_id, batch_id, lines=total, tokens=validator.tokens, until=_until(window)):
        stores.blobs.put(key, document)
        return _new_stored_batch(
            stores,
            settings,
            tenant_id,
            batch_id,
            request,
            key,
            len(document),
            window,
            total,
            output_bucket_key=request.output_bucket_key,
        )


def _create_from_bucket(
    stores: Stores, settings: Settings, tenant_id: str, request: CreateBatchRequest, source: FileRef, window: int
) -> Batch:
    """The bucket object's lines are validated by prepare, as a stream, like an uploaded file's."""
    if not source.object_key:
        raise InvalidInput("input_file.object_key is required", param="input_file.object_key")
    try:
        source_key = object_location(stores, tenant_id, source.bucket_key, source.object_key)
    except ObjectNotFound as exc:
        raise InvalidInput(f"input_file: {exc}", param="input_file") from exc
    return _new_file_batch(
        stores,
        settings,
        tenant_id,
        request,
        window,
        _pinned(stores, settings, source_key, "input_file"),
        input_file=source,
        output_bucket_key=request.output_bucket_key,
    )


def create_batch_from_file(stores: Stores, settings: Settings, tenant_id: str, request: OpenAICreateBatch) -> Batch:
    """The file's lines are validated by prepare, as a stream: a bad line fails the batch, naming it."""
    try:
        stored = get_file(stores, tenant_id, request.input_file_id)
    except FileNotFound as exc:
        raise InvalidInput(f"No file found with id '{request.input_file_id}'", param="input_file_id") from exc
    if stored.purpose != "batch":
        raise InvalidInput(f"file '{stored.id}' has purpose '{stored.purpose}', not 'batch'", param="input_file_id")
    if stored.bytes > OPENAI_MAX_INPUT_BYTES:
        raise InvalidInput(
            f"File is too large: '{stored.id}' is {stored.bytes:,} bytes and a batch's input file may be at most "
            f"200 MB ({OPENAI_MAX_INPUT_BYTES:,} bytes)",
            param="input_file_id",
        )
    window = _window_seconds(settings, request)
    pinned = _pinned(stores, settings, stored.object_key, "input_file_id")
    return _new_file_batch(
        stores, settings, tenant_id, request, window, pinned, input_file_id=stored.id, openai_limits=True
    )


def retry_batch(stores: Stores, settings: Settings, tenant_id: str, batch_id: str) -> Batch:
    """A new batch of the lines of an ended batch that did not succeed (failed, expired, cancelled), with their
    custom ids and bodies, read from the batch's own input: nothing is uploaded again. Its metadata names the
    batch it retries (`retry_of`)."""
    source = get_batch(stores, tenant_id, batch_id)
    if not source.is_terminal:
        raise InvalidInput(f"batch {source.id} is {source.status}; retry it once it has ended", param="batch_id")
    retried_id = new_id("batch_")
    key = stores.blobs.input_key(tenant_id, retried_id)
    total = tokens = 0
    with stores.blobs.writer(key) as input_lines:
        for line in unsucceeded_lines(stores, source):
            input_lines.write(line)
            total += 1
            tokens += estimated_tokens(json.loads(line)["body"])
    if not total:
        raise InvalidInput(f"batch {source.id} has no failed, expired or cancelled lines to retry", param="batch_id")
    options = BatchOptions(
        endpoint=source.endpoint, completion_window=source.completion_window, metadata=_retry_metadata(source)
    )
    if source.output_expires_after is not None:
        options.output_expires_after = ExpiresAfter(anchor="created_at", seconds=source.output_expires_after)
    window = window_seconds(source.completion_window)
    try:
        with holding(stores, settings, tenant_id, retried_id, lines=total, tokens=tokens, until=_until(window)):
            return _new_stored_batch(
                stores,
                settings,
                tenant_id,
                retried_id,
                options,
                key,
                input_lines.size,
                window,
                total,
                lines_from_file=source.lines_from_file,
                output_bucket_key=source.output_bucket_key,
            )
    except QuotaExceeded:
        # Its lines can only be counted as they are written: refused, the retry leaves nothing behind.
        stores.blobs.delete(key)
        raise


def _new_stored_batch(
    stores: Stores,
    settings: Settings,
    tenant_id: str,
    batch_id: str,
    options: BatchOptions,
    input_key: str,
    size: int,
    window: int,
    total: int,
    **extra: Any,
) -> Batch:
    """A batch whose input the service wrote itself (inline lines, a retry's lines), its lines counted; that
    input is readable as the batch's input file too, so both surfaces show the same batch."""
    expires_at = int(time.time()) + window
    file_id = register_input_file(stores, settings, tenant_id, batch_id, input_key, size, expires_at)
    return _new_batch(
        stores, tenant_id, batch_id, options, input_key, window, total=total, input_file_id=file_id, **extra
    )


def _retry_metadata(source: Batch) -> dict[str, Any]:
    """The source's metadata and `retry_of`, within OpenAI's 16 keys (the source's last keys give way)."""
    kept = [(key, value) for key, value in (source.metadata or {}).items() if key != RETRY_OF][: MAX_METADATA_KEYS - 1]
    return {**dict(kept), RETRY_OF: source.id}


def _new_file_batch(
    stores: Stores,
    settings: Settings,
    tenant_id: str,
    options: BatchOptions,
    window: int,
    pinned: dict[str, str],
    **source: Any,
) -> Batch:
    """A batch whose lines the client wrote as a file: its count is known once prepare has read them, and
    prepare reserves its lines of the tenant's quota then."""
    batch_id = new_id("batch_")
    input_key = stores.blobs.input_key(tenant_id, batch_id)
    if "input_file" in source:
        # A bucket object's copy becomes the batch's own input file when prepare makes it.
        source["input_file_id"] = input_file_id(batch_id)
    with holding(stores, settings, tenant_id, batch_id, lines=0, tokens=0, until=_until(window)):
        return _new_batch(
            stores,
            tenant_id,
            batch_id,
            options,
            input_key,
            window,
            total=0,
            lines_from_file=True,
            **pinned,
            **source,
        )


def _pinned(stores: Stores, settings: Settings, source_key: str, param: str) -> dict[str, str]:
    """The version of the input the batch is created from: prepare copies exactly that one, so bytes
    written to the source later are never validated nor run."""
    head = stores.blobs.head(source_key)
    if head is None:
        raise InvalidInput(f"{param}: the file's content is gone", param=param)
    if head.size > settings.max_input_bytes:
        raise InvalidInput(
            f"{param}: the input is {head.size:,} bytes; a batch's input may be at most {settings.max_input_bytes:,}",
            param=param,
        )
    return {"source_key": source_key, "source_etag": head.etag}


def _until(window: int) -> int:
    return int(time.time()) + window


def _window_seconds(settings: Settings, options: BatchOptions) -> int:
    """The batch's window, once its options are known to be within bounds."""
    check_expires_after(settings, options.output_expires_after, "output_expires_after")
    minimum = settings.min_completion_window_seconds
    window = window_seconds(options.completion_window)
    if window < minimum:
        raise InvalidInput(f"completion_window must be at least {minimum} seconds", param="completion_window")
    return window


def _new_batch(
    stores: Stores,
    tenant_id: str,
    batch_id: str,
    options: BatchOptions,
    input_key: str,
    window: int,
    *,
    total: int,
    **extra: Any,
) -> Batch:
    now = int(time.time())
    batch = Batch(
        id=batch_id,
        tenant_id=tenant_id,
        endpoint=options.endpoint,
        status=BatchStatus.VALIDATING,
        completion_window=options.completion_window,
        input_key=input_key,
        metadata=options.metadata,
        request_counts=RequestCounts(total=total),
        output_expires_after=options.output_expires_after.seconds if options.output_expires_after else None,
        created_at=now,
        expires_at=now + window,
        **extra,
    )
    stores.batches.put_new(batch)
    changed(stores, batch)
    _start(stores, batch)
    logger.info("batch created", extra={"batch_id": batch_id, "lines": total})
    return batch


def _start(stores: Stores, batch: Batch) -> None:
    try:
        stores.workflow.start(batch.id, {"batch_id": batch.id})
    except StorageError:
        transition(
            stores,
            batch.id,
            to=BatchStatus.FAILED,
            changes={"failed_at": int(time.time()), "error_message": "the batch could not start"},
        )
        raise


def get_batch(stores: Stores, tenant_id: str, batch_id: str) -> Batch:
    """The tenant's batch; another tenant's batch is indistinguishable from a missing one."""
    batch = stores.batches.get(batch_id) if len(batch_id) <= MAX_ID_CHARS else None
    if batch is None or batch.tenant_id != tenant_id:
        raise BatchNotFound(batch_id)
    return batch


def list_batches(
    stores: Stores, tenant_id: str, *, status: str | None = None, limit: int = 50, after: str | None = None
) -> tuple[list[Batch], bool]:
    """A page of the tenant's batches, newest first (older than `after` when given), and whether more follow."""
    limit = page_limit(limit, 500)
    found = stores.batches.list(tenant_id, status=status, limit=limit + 1, before=after)
    return found[:limit], len(found) > limit


def cancel_batch(stores: Stores, tenant_id: str, batch_id: str) -> Batch:
    """Stops new lines from starting; running lines finish. Cancelling a cancelling or cancelled batch
    answers it unchanged, on both surfaces; a batch that ended otherwise cannot be cancelled."""
    batch = get_batch(stores, tenant_id, batch_id)
    if batch.status in (BatchStatus.CANCELLING, BatchStatus.CANCELLED):
        return batch
    cancellable = batch_sources(BatchStatus.CANCELLING)
    if batch.status not in cancellable:
        allowed = " or ".join(status for status in BatchStatus if status in cancellable)
        raise InvalidTransition(f"batch {batch_id} is {batch.status}; only {allowed} batches can be cancelled")
    try:
        batch = transition(stores, batch_id, to=BatchStatus.CANCELLING, changes={"cancelling_at": int(time.time())})
    except InvalidTransition:
        return cancel_batch(stores, tenant_id, batch_id)
    if batch.task_token:
        stores.workflow.signal_cancelled(batch.task_token)
    return batch
