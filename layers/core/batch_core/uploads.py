"""The OpenAI Uploads API: large files arrive in parts and are joined into one file, streaming."""

import secrets
import time
from collections.abc import Iterator

from batch_core.dal import storage
from batch_core.dal.files_db import put_file_in_db
from batch_core.dal.uploads_db import end_upload_in_db, get_upload_in_db, put_upload_in_db
from batch_core.errors import InvalidInput, InvalidTransition, StorageError, UploadNotFound
from batch_core.files import UPLOAD_PURPOSES, new_file_id
from batch_core.models.bounds import MAX_ID_CHARS, echo
from batch_core.models.file import StoredFile
from batch_core.models.upload import CompleteUploadRequest, CreateUploadRequest, Upload

UPLOAD_SECONDS = 3600
MAX_UPLOAD_BYTES = 8 * 1024**3


def create_upload(tenant_id: str, request: CreateUploadRequest) -> Upload:
    if request.purpose not in UPLOAD_PURPOSES:
        raise InvalidInput(f"purpose must be 'batch', not '{echo(request.purpose)}'", param="purpose")
    if not 0 < request.bytes <= MAX_UPLOAD_BYTES:
        raise InvalidInput(f"bytes must be between 1 and {MAX_UPLOAD_BYTES}", param="bytes")
    now = int(time.time())
    upload = Upload(
        id=f"upload_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        filename=request.filename,
        purpose=request.purpose,
        bytes=request.bytes,
        mime_type=request.mime_type,
        created_at=now,
        expires_at=now + UPLOAD_SECONDS,
    )
    put_upload_in_db(upload)
    return upload


def get_upload(tenant_id: str, upload_id: str) -> Upload:
    upload = get_upload_in_db(upload_id) if len(upload_id) <= MAX_ID_CHARS else None
    if upload is None or upload.tenant_id != tenant_id:
        raise UploadNotFound(upload_id)
    return upload


def add_part(tenant_id: str, upload_id: str, data: bytes) -> tuple[str, int]:
    """Stores one part as its own object; returns the part id and its creation time."""
    upload = _pending(tenant_id, upload_id)
    part_id = f"part_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"
    storage.put_object(storage.upload_part_key(tenant_id, upload.id, part_id), data, "application/octet-stream")
    return part_id, int(time.time())


def complete_upload(tenant_id: str, upload_id: str, request: CompleteUploadRequest) -> tuple[Upload, StoredFile]:
    """Joins the parts in the order given into one file, part by part, never the whole in memory."""
    upload = _pending(tenant_id, upload_id)
    stored = StoredFile(
        id=new_file_id(),
        tenant_id=tenant_id,
        filename=upload.filename,
        purpose="batch",
        bytes=upload.bytes,
        created_at=int(time.time()),
        object_key="",
    )
    stored.object_key = storage.file_object_key(tenant_id, stored.id)
    writer = storage.ObjectWriter(stored.object_key)
    try:
        for part_id in request.part_ids:
            for chunk in _part_chunks(tenant_id, upload.id, part_id):
                writer.write(chunk)
        if writer.size != upload.bytes:
            raise InvalidInput(
                f"the parts hold {writer.size} bytes, but the upload declared {upload.bytes}", param="part_ids"
            )
        writer.close()
    except BaseException:
        writer.abort()
        raise
    put_file_in_db(stored)
    end_upload_in_db(upload.id, "completed", stored.id)
    for part_id in request.part_ids:
        storage.delete_object(storage.upload_part_key(tenant_id, upload.id, part_id))
    return upload.model_copy(update={"status": "completed", "file_id": stored.id}), stored


def cancel_upload(tenant_id: str, upload_id: str) -> Upload:
    upload = _pending(tenant_id, upload_id)
    end_upload_in_db(upload.id, "cancelled")
    return upload.model_copy(update={"status": "cancelled"})


def _part_chunks(tenant_id: str, upload_id: str, part_id: str) -> Iterator[bytes]:
    try:
        yield from storage.iter_object_chunks(storage.upload_part_key(tenant_id, upload_id, part_id))
    except StorageError as exc:
        raise InvalidInput(f"part '{echo(part_id)}' was not added to upload {upload_id}", param="part_ids") from exc


def _pending(tenant_id: str, upload_id: str) -> Upload:
    upload = get_upload(tenant_id, upload_id)
    if upload.status != "pending" or upload.expires_at < time.time():
        raise InvalidTransition(f"upload {upload_id} is {upload.status if upload.status != 'pending' else 'expired'}")
    return upload
