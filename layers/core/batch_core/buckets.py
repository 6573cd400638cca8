"""The console's files API: per-tenant buckets of objects, uploaded inline or straight to S3."""

import base64
import binascii
import hashlib
import mimetypes
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from batch_core.dal.objects_db import FoundObject
from batch_core.dal.storage import JSONL
from batch_core.dal.stores import Stores
from batch_core.errors import BatchError, BucketNotFound, InvalidInput, InvalidTransition, ObjectNotFound
from batch_core.models.bounds import MAX_NAME_CHARS, echo
from batch_core.models.bucket_object import Bucket, BucketObject, PresignUploadRequest, UploadObjectRequest
from batch_core.pages import page_limit
from batch_core.responses import base64_fits
from batch_core.results import Results

_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DATA_URL = re.compile(r"^data:(?P<type>[^;,]*)(?P<base64>;base64)?,(?P<payload>.*)$", re.DOTALL)
UPLOAD_URL_SECONDS = 3600
# An upload never completed is forgotten a day after its URL stopped working.
INCOMPLETE_SECONDS = UPLOAD_URL_SECONDS + 86400


def upload_object(stores: Stores, tenant_id: str, bucket: str, request: UploadObjectRequest) -> BucketObject:
    """Every check runs before the bytes are written; if no key is free, the written bytes are removed."""
    check_bucket_name(bucket)
    data, declared_type = decode_data(request.data)
    content_type = request.contentType or declared_type or _guess_type(request.fileName)
    s3_key = stores.blobs.new_bucket_object_key(tenant_id, bucket)
    stores.blobs.put(s3_key, data, content_type)
    hint = request.keyHint or request.fileName
    try:
        return _record(
            stores, tenant_id, bucket, hint, request.fileName, request.metadata, content_type, len(data), s3_key
        )
    except BatchError:
        stores.blobs.delete(s3_key)
        raise


def presign_upload(
    stores: Stores, tenant_id: str, bucket: str, request: PresignUploadRequest
) -> tuple[BucketObject, str]:
    """For bodies too large for an API request: the client PUTs the bytes to the URL, then completes.
    The URL writes to a staging object, never to the bytes a complete object's record points to."""
    content_type = request.contentType or _guess_type(request.fileName)
    staging_key = stores.blobs.new_staging_key(tenant_id)
    stored = _record(
        stores,
        tenant_id,
        bucket,
        request.keyHint or request.fileName,
        request.fileName,
        request.metadata,
        content_type,
        0,
        staging_key,
        complete=False,
        ttl=int(time.time()) + INCOMPLETE_SECONDS,
    )
    return stored, stores.blobs.upload_url(staging_key, content_type, UPLOAD_URL_SECONDS)


def complete_upload(stores: Stores, tenant_id: str, bucket: str, key: str) -> BucketObject:
    """Copies the uploaded bytes to the object's own key and records their size, once: a later PUT to the
    upload URL changes nothing the object points to, and completing twice is refused."""
    stored, staging_key, complete = _find(stores, tenant_id, bucket, key, incomplete=True)
    if complete:
        raise InvalidTransition(f"object '{key}' in bucket '{bucket}' is already complete")
    head = stores.blobs.head(staging_key)
    if head is None:
        raise InvalidInput(f"no bytes were uploaded for object '{key}'; PUT them to the upload URL first", param="key")
    s3_key = stores.blobs.new_bucket_object_key(tenant_id, bucket)
    if not stores.blobs.copy_version(staging_key, head.etag, s3_key):
        raise InvalidInput(f"the bytes of object '{key}' changed while completing; complete it again", param="key")
    done = stored.model_copy(update={"size": head.size, "updatedAt": _now()})
    completed = stores.objects.complete(tenant_id, done, staging_key, s3_key)
    if not completed and not _points_to(stores, done, tenant_id, s3_key):
        stores.blobs.delete(s3_key)
        raise InvalidTransition(f"object '{key}' in bucket '{bucket}' is already complete")
    stores.blobs.delete(staging_key)
    return done


def _points_to(stores: Stores, stored: BucketObject, tenant_id: str, s3_key: str) -> bool:
    """Whether the record already points to `s3_key`: a retried write of ours that had gone through."""
    found = stores.objects.get(tenant_id, stored.bucketKey, stored.key)
    return found is not None and found.s3_key == s3_key


def get_object(stores: Stores, tenant_id: str, bucket: str, key: str) -> BucketObject:
    return _find(stores, tenant_id, bucket, key).stored


def object_location(stores: Stores, tenant_id: str, bucket: str, key: str) -> str:
    """The S3 key of a complete object's bytes, e.g. to read it as a batch input."""
    found = _find(stores, tenant_id, bucket, key, incomplete=True)
    if not found.complete:
        raise InvalidInput(f"object '{key}' in bucket '{bucket}' is still being uploaded", param="input_file")
    return found.s3_key


def download_object(stores: Stores, tenant_id: str, bucket: str, key: str) -> tuple[BucketObject, Results]:
    stored, s3_key, _ = _find(stores, tenant_id, bucket, key)
    if not base64_fits(stored.size):
        return stored, Results(url=stores.blobs.download_url(s3_key))
    return stored, Results(body=stores.blobs.get(s3_key))


def list_buckets(stores: Stores, tenant_id: str) -> list[Bucket]:
    return stores.objects.list_buckets(tenant_id)


def get_bucket(stores: Stores, tenant_id: str, bucket: str) -> Bucket:
    found = stores.objects.get_bucket(tenant_id, bucket) if _BUCKET.match(bucket) else None
    if found is None:
        raise BucketNotFound(bucket)
    return found


def list_objects(
    stores: Stores, tenant_id: str, bucket: str, *, limit: int, cursor: str | None, search: str | None = None
) -> tuple[list[BucketObject], str | None]:
    """A page of objects by key (with `search`, those whose name or key holds it, ignoring case),
    and the cursor of the next page (None after the last)."""
    check_bucket_name(bucket)
    limit = page_limit(limit, 1000)
    after = _decode_cursor(cursor) if cursor else None
    found = stores.objects.list(tenant_id, bucket, limit=limit + 1, after_key=after, search=search)
    page = found[:limit]
    more = len(found) > limit
    return page, base64.urlsafe_b64encode(page[-1].key.encode()).decode() if more else None


def delete_object(stores: Stores, tenant_id: str, bucket: str, key: str) -> None:
    """Safe while a batch made from the object runs: prepare copies the input into the batch's own storage
    before it validates it, and nothing reads the object after that. A batch not yet prepared fails,
    naming the object."""
    found = _find(stores, tenant_id, bucket, key, incomplete=True)
    stores.objects.delete(tenant_id, bucket, key)
    stores.blobs.delete(found.s3_key)


def store_batch_output(stores: Stores, tenant_id: str, bucket: str, batch_id: str, source_key: str, size: int) -> str:
    """Copies a finished batch's output file into the tenant's bucket; returns its object key.

    The bytes' key follows from the batch, so a finalize that runs again overwrites the same bytes
    and finds its own record instead of adding a second object."""
    s3_key = stores.blobs.batch_output_key(tenant_id, bucket, batch_id)
    stores.blobs.copy(source_key, s3_key)
    file_name = f"{batch_id}_output.jsonl"
    return _record(stores, tenant_id, bucket, file_name, file_name, {"batch_id": batch_id}, JSONL, size, s3_key).key


def decode_data(data: str) -> tuple[bytes, str | None]:
    """base64, or a data URL (`data:text/plain;base64,…`); returns the bytes and any declared type."""
    match = _DATA_URL.match(data)
    if match and not match.group("base64"):
        return unquote_to_bytes(match.group("payload")), match.group("type") or None
    payload = match.group("payload") if match else data
    try:
        return base64.b64decode(payload, validate=True), (match.group("type") or None) if match else None
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("data must be base64 or a data URL", param="data") from exc


def _record(
    stores: Stores,
    tenant_id: str,
    bucket: str,
    hint: str,
    file_name: str,
    metadata: dict[str, Any] | None,
    content_type: str,
    size: int,
    s3_key: str,
    *,
    complete: bool = True,
    ttl: int | None = None,
) -> BucketObject:
    check_bucket_name(bucket)
    base = _UNSAFE.sub("-", hint).strip("-.") or "file"
    now = _now()
    stores.objects.put_bucket(tenant_id, bucket, now)
    for attempt in range(5):
        key = base if attempt == 0 else f"{base[: MAX_NAME_CHARS - 7]}-{_suffix(s3_key, attempt)}"
        stored = BucketObject(
            id=uuid.uuid4().hex,
            key=key,
            bucketKey=bucket,
            fileName=file_name,
            contentType=content_type,
            size=size,
            metadata=metadata,
            createdAt=now,
            updatedAt=now,
        )
        if stores.objects.put(tenant_id, stored, s3_key, new=True, complete=complete, ttl=ttl):
            return stored
        taken = stores.objects.get(tenant_id, bucket, key)
        if taken is not None and taken.s3_key == s3_key:
            return taken.stored
    raise InvalidInput(f"could not find a free key for '{echo(hint)}' in bucket '{bucket}'", param="keyHint")


def _suffix(s3_key: str, attempt: int) -> str:
    """Another key for a taken name; derived from the bytes' key so the same bytes always try the same keys."""
    return hashlib.sha256(f"{s3_key}#{attempt}".encode()).hexdigest()[:6]


def _find(stores: Stores, tenant_id: str, bucket: str, key: str, *, incomplete: bool = False) -> FoundObject:
    """The object, where its bytes are and whether they have arrived; one still being uploaded is
    only found when `incomplete` says so, as it has nothing to read yet."""
    check_bucket_name(bucket)
    found = stores.objects.get(tenant_id, bucket, key) if len(key) <= MAX_NAME_CHARS else None
    if found is None or not (found.complete or incomplete):
        raise ObjectNotFound(bucket, key)
    return found


def check_bucket_name(bucket: str, param: str = "bucket") -> None:
    if not _BUCKET.match(bucket):
        raise InvalidInput(f"{param} '{echo(bucket)}' must be 1-64 letters, digits, '.', '_' or '-'", param=param)


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this API returned", param="cursor") from exc


def _guess_type(file_name: str) -> str:
    if file_name.endswith(".jsonl"):
        return JSONL
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
