"""The OpenAI Uploads API: large files arrive in parts and are joined into one file, streaming."""

import hashlib
import secrets
import time
from collections.abc import Iterator

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput, InvalidTransition, StorageError, UploadNotFound
from batch_core.files import UPLOAD_PURPOSES, check_expires_after, new_uploaded_file
from batch_core.ids import new_id
from batch_core.models.bounds import MAX_ID_CHARS, echo
from batch_core.models.file import StoredFile
from batch_core.models.upload import CompleteUploadRequest, CreateUploadRequest, Upload
from batch_core.settings import Settings

UPLOAD_SECONDS = 3600
MAX_UPLOAD_BYTES = 8 * 1024**3
# How long a completion holds its upload: twice the API function's timeout, so a claim outlives
# its holder only when the holder died, and then it lapses.
CLAIM_SECONDS = 60


def create_upload(stores: Stores, settings: Settings, tenant_id: str, request: CreateUploadRequest) -> Upload:
    if request.purpose not in UPLOAD_PURPOSES:
        raise InvalidInput(f"purpose must be 'batch', not '{echo(request.purpose)}'", param="purpose")
    if not 0 < request.bytes <= MAX_UPLOAD_BYTES:
        raise InvalidInput(f"bytes must be between 1 and {MAX_UPLOAD_BYTES}", param="bytes")
    kept = check_expires_after(settings, request.expires_after)
    now = int(time.time())
    upload = Upload(
        id=new_id("upload_"),
        tenant_id=tenant_id,
        filename=request.filename,
        purpose=request.purpose,
        bytes=request.bytes,
        mime_type=request.mime_type,
        created_at=now,
        expires_at=now + UPLOAD_SECONDS,
        file_expires_after=kept,
    )
    stores.uploads.put(upload)
    return upload


def get_upload(stores: Stores, tenant_id: str, upload_id: str) -> Upload:
    upload = stores.uploads.get(upload_id) if len(upload_id) <= MAX_ID_CHARS else None
    if upload is None or upload.tenant_id != tenant_id:
        raise UploadNotFound(upload_id)
    return upload


def add_part(stores: Stores, tenant_id: str, upload_id: str, data: bytes) -> tuple[str, int]:
    """Stores one part as its own object; returns the part id and its creation time."""
    upload = _pending(stores, tenant_id, upload_id)
    part_id = new_id("part_")
    stores.blobs.put(stores.blobs.upload_part_key(tenant_id, upload.id, part_id), data, "application/octet-stream")
    return part_id, int(time.time())


def complete_upload(
    stores: Stores, settings: Settings, tenant_id: str, upload_id: str, request: CompleteUploadRequest
) -> tuple[Upload, StoredFile]:
    """Joins the parts in the order given into one file, part by part, never the whole in memory.

    One caller claims the upload before anything is written; any other completion at the same time is
    refused and writes nothing. Parts that do not add up to the declared size or `md5` write nothing either,
    and the upload stays pending."""
    upload = _pending(stores, tenant_id, upload_id)
    claim = secrets.token_hex(8)
    stores.uploads.claim(upload.id, claim, int(time.time()), CLAIM_SECONDS)
    stored = new_uploaded_file(stores, settings, tenant_id, upload.filename, upload.bytes, upload.file_expires_after)
    try:
        _join(stores, upload, request, stored.object_key)
    except BaseException:
        stores.uploads.release(upload.id, claim)
        raise
    try:
        stores.uploads.finish(upload.id, claim, stored)
    except InvalidTransition:
        stores.blobs.delete(stored.object_key)
        raise
    except StorageError as failed:
        # With an answer, AWS said nothing was written; with no answer at all the bytes stay, as the record may
        # point to them (the `files/` lifecycle rule removes them otherwise).
        if not failed.unanswered:
            stores.blobs.delete(stored.object_key)
        raise
    part_keys = [stores.blobs.upload_part_key(tenant_id, upload.id, part_id) for part_id in request.part_ids]
    stores.blobs.delete_many(part_keys)
    stores.file_checks.send(stored.id)
    return upload.model_copy(update={"status": "completed", "file_id": stored.id}), stored


def _join(stores: Stores, upload: Upload, request: CompleteUploadRequest, key: str) -> None:
    """Writes the parts into one object at `key`, or nothing when they are not the file the client declared."""
    digest = hashlib.md5(usedforsecurity=False)
    with stores.blobs.writer(key) as writer:
        for part_id in request.part_ids:
            for chunk in _part_chunks(stores, upload.tenant_id, upload.id, part_id):
                digest.update(chunk)
                writer.write(chunk)
        if writer.size != upload.bytes:
            raise InvalidInput(
                f"the parts hold {writer.size} bytes, but the upload declared {upload.bytes}", param="part_ids"
            )
        if request.md5 is not None and request.md5.lower() != digest.hexdigest():
            raise InvalidInput(f"the parts' md5 is {digest.hexdigest()}, not {request.md5}", param="md5")


def cancel_upload(stores: Stores, tenant_id: str, upload_id: str) -> Upload:
    upload = _pending(stores, tenant_id, upload_id)
    stores.uploads.cancel(upload.id, int(time.time()), CLAIM_SECONDS)
    return upload.model_copy(update={"status": "cancelled"})


def _part_chunks(stores: Stores, tenant_id: str, upload_id: str, part_id: str) -> Iterator[bytes]:
    try:
        yield from stores.blobs.chunks(stores.blobs.upload_part_key(tenant_id, upload_id, part_id))
    except StorageError as exc:
        raise InvalidInput(f"part '{echo(part_id)}' was not added to upload {upload_id}", param="part_ids") from exc


def _pending(stores: Stores, tenant_id: str, upload_id: str) -> Upload:
    upload = get_upload(stores, tenant_id, upload_id)
    if upload.status != "pending" or upload.expires_at < time.time():
        raise InvalidTransition(f"upload {upload_id} is {upload.status if upload.status != 'pending' else 'expired'}")
    return upload
