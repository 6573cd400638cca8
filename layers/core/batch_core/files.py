"""Files of the OpenAI surface: batch inputs uploaded by clients, and batches' output and error files."""

import time
from typing import NamedTuple

from batch_core.dal.stores import Stores
from batch_core.errors import FileNotFound, InvalidInput
from batch_core.ids import new_id
from batch_core.models.batch import Batch
from batch_core.models.bounds import MAX_ID_CHARS, echo
from batch_core.models.file import ExpiresAfter, StoredFile, error_file_id, input_file_id, output_file_id
from batch_core.pages import page_limit
from batch_core.responses import base64_fits
from batch_core.results import Results
from batch_core.settings import Settings

UPLOAD_PURPOSES = ("batch",)


class BatchFile(NamedTuple):
    """A finished batch's output or error object and its size."""

    key: str
    size: int


def new_uploaded_file(
    stores: Stores, settings: Settings, tenant_id: str, filename: str, size: int, expires_after: int | None = None
) -> StoredFile:
    """An uploaded file expires `expires_after` seconds after its creation, by default (and at most) the
    retention period; its bytes' lifecycle rule keeps them a day longer than that. It is "uploaded" until the
    check that its storing queues (file_checks.py) ends."""
    file_id = new_id("file-")
    expires_at = int(time.time()) + (expires_after or settings.retention_days * 86400)
    stored = _file(file_id, tenant_id, filename, "batch", size, stores.blobs.file_key(tenant_id, file_id), expires_at)
    return stored.model_copy(update={"status": "uploaded"})


def check_expires_after(
    settings: Settings, expires_after: ExpiresAfter | None, param: str = "expires_after"
) -> int | None:
    """The seconds a file is kept, as the client asked; past the retention its bytes would be gone first."""
    if expires_after is None:
        return None
    most = settings.retention_days * 86400
    if expires_after.seconds > most:
        raise InvalidInput(
            f"{param}.seconds must be at most {most} (this service keeps files {settings.retention_days} days)",
            param=f"{param}.seconds",
        )
    return expires_after.seconds


def upload_file(
    stores: Stores,
    settings: Settings,
    tenant_id: str,
    filename: str,
    purpose: str,
    data: bytes,
    expires_after: ExpiresAfter | None = None,
) -> StoredFile:
    if purpose not in UPLOAD_PURPOSES:
        raise InvalidInput(f"purpose must be 'batch', not '{echo(purpose)}'", param="purpose")
    if not data:
        raise InvalidInput("the file is empty", param="file")
    kept = check_expires_after(settings, expires_after)
    stored = new_uploaded_file(stores, settings, tenant_id, filename, len(data), kept)
    stores.blobs.put(stored.object_key, data)
    stores.files.put(stored)
    stores.file_checks.send(stored.id)
    return stored


def get_file(stores: Stores, tenant_id: str, file_id: str) -> StoredFile:
    stored = stores.files.get(file_id) if len(file_id) <= MAX_ID_CHARS else None
    if stored is None or stored.tenant_id != tenant_id:
        raise FileNotFound(file_id)
    return stored


def list_files(
    stores: Stores,
    tenant_id: str,
    *,
    limit: int = 20,
    after: str | None = None,
    order: str = "desc",
    purpose: str | None = None,
) -> tuple[list[StoredFile], bool]:
    """A page of files by creation time (`order` "desc", newest first, or "asc"), past `after` in that order,
    only those of `purpose` when given; and whether more follow."""
    if order not in ("asc", "desc"):
        raise InvalidInput(f"order must be 'asc' or 'desc', not '{echo(order)}'", param="order")
    limit = page_limit(limit, 10_000)
    found = stores.files.list(tenant_id, limit=limit + 1, after=after, oldest_first=order == "asc", purpose=purpose)
    return found[:limit], len(found) > limit


def delete_file(stores: Stores, tenant_id: str, file_id: str) -> StoredFile:
    """Safe while a batch made from the file runs: prepare copies the input into the batch's own storage
    before it validates it, and nothing reads the file after that. A batch not yet prepared fails,
    naming the file."""
    stored = get_file(stores, tenant_id, file_id)
    stores.files.delete(file_id)
    stores.blobs.delete(stored.object_key)
    return stored


def file_content(stores: Stores, tenant_id: str, file_id: str) -> Results:
    stored = get_file(stores, tenant_id, file_id)
    if not base64_fits(stored.bytes):
        return Results(url=stores.blobs.download_url(stored.object_key))
    return Results(body=stores.blobs.get(stored.object_key))


def register_input_file(
    stores: Stores,
    settings: Settings,
    tenant_id: str,
    batch_id: str,
    object_key: str,
    size: int,
    batch_expires_at: int,
) -> str:
    """Makes an inline batch's stored input readable as a file too, so both surfaces show the same batch;
    the file expires with the batch."""
    file_id = input_file_id(batch_id)
    expires_at = settings.batch_ttl(batch_expires_at)
    stores.files.put(_file(file_id, tenant_id, f"{batch_id}_input.jsonl", "batch", size, object_key, expires_at))
    return file_id


def register_batch_files(
    stores: Stores, settings: Settings, batch: Batch, output: BatchFile | None, errors: BatchFile | None
) -> None:
    """Makes a finished batch's output and error objects readable as files, without copying them."""
    for file_id, written, name in (
        (output_file_id(batch.id), output, "output"),
        (error_file_id(batch.id), errors, "errors"),
    ):
        if written is not None:
            filename, expires_at = f"{batch.id}_{name}.jsonl", settings.batch_ttl(batch.expires_at)
            if batch.output_expires_after is not None:
                expires_at = int(time.time()) + batch.output_expires_after
            stored = _file(file_id, batch.tenant_id, filename, "batch_output", written.size, written.key, expires_at)
            stores.files.put(stored)


def _file(
    file_id: str, tenant_id: str, filename: str, purpose: str, size: int, object_key: str, expires_at: int
) -> StoredFile:
    """A file's record, created now."""
    return StoredFile(
        id=file_id,
        tenant_id=tenant_id,
        filename=filename,
        purpose=purpose,
        bytes=size,
        created_at=int(time.time()),
        object_key=object_key,
        expires_at=expires_at,
    )
