"""The OpenAI Uploads API: large files arrive in parts and are joined into one file, streaming."""

import hashlib
import secrets
import time
from collections.abc import Iterator

from batch_core.dal import storage
from batch_core.dal.uploads_db import (
    cancel_upload_in_db,
    claim_upload_in_db,
    finish_upload_in_db,
    get_upload_in_db,
    put_upload_in_db,
    release_upload_in_db,
)
from batch_core.errors import InvalidInput, InvalidTransition, StorageError, UploadNotFound
from batch_core.files import UPLOAD_PURPOSES, new_uploaded_file
from batch_core.models.bounds import MAX_ID_CHARS, echo
from batch_core.models.file import StoredFile
from batch_core.models.upload import CompleteUploadRequest, CreateUploadRequest, Upload

UPLOAD_SECONDS = 3600
MAX_UPLOAD_BYTES = 8 * 1024**3
# How long a completion holds its upload: twice the API function's timeout, so a claim outlives
# its holder only when the holder died, and then it lapses.
CLAIM_SECONDS = 60


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
    """Joins the parts in the order given into one file, part by part, never the whole in memory.

    One caller claims the upload before anything is written; any other completion at the same time is
    refused and writes nothing. Parts that do not add up to the declared size or `md5` write nothing either,
    and the upload stays pending."""
    upload = _pending(tenant_id, upload_id)
    claim = secrets.token_hex(8)
    claim_upload_in_db(upload.id, claim, int(time.time()), CLAIM_SECONDS)
    stored = new_uploaded_file(tenant_id, upload.filename, upload.bytes)
    try:
        _join(upload, request, stored.object_key)
    except BaseException:
        release_upload_in_db(upload.id, claim)
        raise
    try:
        finish_upload_in_db(upload.id, claim, stored)
    except (InvalidTransition, StorageError):
        # AWS answered that nothing was written; with no answer at all the bytes stay, as the record may point
        # to them (the `files/` lifecycle rule removes them otherwise).
        storage.delete_object(stored.object_key)
        raise
    storage.delete_objects([storage.upload_part_key(tenant_id, upload.id, part_id) for part_id in request.part_ids])
    return upload.model_copy(update={"status": "completed", "file_id": stored.id}), stored


def _join(upload: Upload, request: CompleteUploadRequest, key: str) -> None:
    """Writes the parts into one object at `key`, or nothing when they are not the file the client declared."""
    writer = storage.ObjectWriter(key)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        for part_id in request.part_ids:
            for chunk in _part_chunks(upload.tenant_id, upload.id, part_id):
                digest.update(chunk)
                writer.write(chunk)
        if writer.size != upload.bytes:
            raise InvalidInput(
                f"the parts hold {writer.size} bytes, but the upload declared {upload.bytes}", param="part_ids"
            )
        if request.md5 is not None and request.md5.lower() != digest.hexdigest():
            raise InvalidInput(f"the parts' md5 is {digest.hexdigest()}, not {request.md5}", param="md5")
        writer.close()
    except BaseException:
        writer.abort()
        raise


def cancel_upload(tenant_id: str, upload_id: str) -> Upload:
    upload = _pending(tenant_id, upload_id)
    cancel_upload_in_db(upload.id, int(time.time()), CLAIM_SECONDS)
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
