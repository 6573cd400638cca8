"""S3 access: the only place that knows the object key layout."""

import uuid
from collections.abc import Iterator
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from batch_core.dal.clients import client
from batch_core.errors import StorageError
from batch_core.settings import get_settings

JSONL = "application/jsonl"
_MIN_PART_BYTES = 8 * 1024 * 1024
_MISSING = ("404", "NoSuchKey", "NotFound")
_CHANGED = ("412", "PreconditionFailed")
# One CopyObject request up to S3's 5 GB limit; only larger objects pay for a multipart copy.
_COPY = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=512 * 1024**2)


def _bucket() -> str:
    return get_settings().bucket_name


# Keys start with their kind, so each kind's lifecycle rule can select it by prefix.
def _batch_prefix(tenant_id: str, batch_id: str) -> str:
    return f"batches/{tenant_id}/{batch_id}"


def file_object_key(tenant_id: str, file_id: str) -> str:
    return f"files/{tenant_id}/{file_id}"


def new_bucket_object_s3_key(tenant_id: str, bucket: str) -> str:
    """Where a console object's bytes go: the tenant's own, never expired by a lifecycle rule."""
    return f"buckets/{tenant_id}/{bucket}/{uuid.uuid4().hex}"


def batch_output_s3_key(tenant_id: str, bucket: str, batch_id: str) -> str:
    """Where a batch's output copy goes in the tenant's bucket: one key per batch, so a rerun writes it again."""
    return f"buckets/{tenant_id}/{bucket}/{batch_id}_output"


def new_staging_key(tenant_id: str) -> str:
    """The target of a presigned PUT URL: the URL stays usable for its hour, so nothing a record points to
    at completion may be written through it."""
    return f"staging/{tenant_id}/{uuid.uuid4().hex}"


def new_spool_key(tenant_id: str) -> str:
    """An answer too large for Lambda, kept for the client to fetch; a lifecycle rule drops `spool/` after a day."""
    return f"spool/{tenant_id}/{uuid.uuid4().hex}"


def copy_object(source: str, target: str) -> None:
    """A server-side copy of any size: the bytes never pass through the caller."""
    try:
        _copy(source, target, {})
    except ClientError as exc:
        raise StorageError(f"could not copy {source}") from exc


def copy_version(source: str, etag: str, target: str) -> bool:
    """A server-side copy of exactly the version of `source` whose ETag is `etag`, of any size;
    False when `source` has changed since or is gone, and then nothing is written."""
    try:
        _copy(source, target, {"CopySourceIfMatch": etag})
    except ClientError as exc:
        if exc.response["Error"]["Code"] in (*_MISSING, *_CHANGED):
            return False
        raise StorageError(f"could not copy {source}") from exc
    return True


def _copy(source: str, target: str, conditions: dict[str, str]) -> None:
    client("s3").copy({"Bucket": _bucket(), "Key": source}, _bucket(), target, ExtraArgs=conditions, Config=_COPY)


def head_object(key: str) -> dict[str, Any] | None:
    try:
        return client("s3").head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _MISSING:
            return None
        raise StorageError(f"could not read {key}") from exc


def presigned_put_url(key: str, content_type: str, seconds: int = 3600) -> str:
    return client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type}, ExpiresIn=seconds
    )


def upload_part_key(tenant_id: str, upload_id: str, part_id: str) -> str:
    return f"uploads/{tenant_id}/{upload_id}/{part_id}"


def iter_object_chunks(key: str, size: int = 1024 * 1024) -> Iterator[bytes]:
    """The object's bytes as a stream of chunks."""
    try:
        body = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    except ClientError as exc:
        raise StorageError(f"could not read {key}") from exc
    yield from body.iter_chunks(size)


def delete_object(key: str) -> None:
    try:
        client("s3").delete_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        raise StorageError(f"could not delete {key}") from exc


def delete_objects(keys: list[str]) -> None:
    """Deletes many objects, a thousand to a request (S3's most)."""
    for start in range(0, len(keys), 1000):
        chunk = [{"Key": key} for key in keys[start : start + 1000]]
        try:
            answer = client("s3").delete_objects(Bucket=_bucket(), Delete={"Objects": chunk, "Quiet": True})
        except ClientError as exc:
            raise StorageError(f"could not delete {len(chunk)} objects") from exc
        if answer.get("Errors"):
            raise StorageError(f"could not delete {len(answer['Errors'])} objects: {answer['Errors'][0]}")


def input_key(tenant_id: str, batch_id: str) -> str:
    return f"{_batch_prefix(tenant_id, batch_id)}/input.jsonl"


def part_key(tenant_id: str, batch_id: str, unit: int, attempt: int) -> str:
    return f"{_batch_prefix(tenant_id, batch_id)}/units/{unit:06d}/attempt-{attempt}.jsonl"


def output_key(tenant_id: str, batch_id: str) -> str:
    return f"{_batch_prefix(tenant_id, batch_id)}/output.jsonl"


def error_key(tenant_id: str, batch_id: str) -> str:
    return f"{_batch_prefix(tenant_id, batch_id)}/errors.jsonl"


def results_key(tenant_id: str, batch_id: str, status: str | None) -> str:
    return f"{_batch_prefix(tenant_id, batch_id)}/results-{status or 'all'}.jsonl"


def put_object(key: str, data: bytes, content_type: str = JSONL) -> None:
    try:
        client("s3").put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)
    except ClientError as exc:
        raise StorageError(f"could not write {key}") from exc


def get_object(key: str) -> bytes:
    try:
        return client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()
    except ClientError as exc:
        raise StorageError(f"could not read {key}") from exc


def get_range(key: str, start: int, end: int) -> bytes:
    """Bytes `start` to `end` (exclusive) of an object: one ranged GET."""
    try:
        answer = client("s3").get_object(Bucket=_bucket(), Key=key, Range=f"bytes={start}-{end - 1}")
    except ClientError as exc:
        raise StorageError(f"could not read bytes {start}-{end} of {key}") from exc
    return answer["Body"].read()


def presigned_url(key: str, seconds: int = 3600) -> str:
    return client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds
    )


class ObjectWriter:
    """Writes one object from many small pieces without holding it whole: a multipart upload once it
    outgrows one part, a single PUT otherwise. Nothing is written for an object that stays empty."""

    def __init__(self, key: str, content_type: str = JSONL):
        self.key = key
        self.content_type = content_type
        self.size = 0
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        self.size += len(data)
        if self._buffered >= _MIN_PART_BYTES:
            self._upload_part()

    def close(self) -> bool:
        """Finishes the object; False when nothing was written and so no object exists."""
        if self._upload_id is None:
            if self.size:
                put_object(self.key, b"".join(self._buffer), self.content_type)
            return self.size > 0
        if self._buffered:
            self._upload_part()
        try:
            client("s3").complete_multipart_upload(
                Bucket=_bucket(), Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        except ClientError as exc:
            raise StorageError(f"could not write {self.key}") from exc
        return True

    def abort(self) -> None:
        if self._upload_id is None:
            return
        try:
            client("s3").abort_multipart_upload(Bucket=_bucket(), Key=self.key, UploadId=self._upload_id)
        except ClientError as exc:
            raise StorageError(f"could not abort the upload of {self.key}") from exc

    def _upload_part(self) -> None:
        s3 = client("s3")
        try:
            if self._upload_id is None:
                started = s3.create_multipart_upload(Bucket=_bucket(), Key=self.key, ContentType=self.content_type)
                self._upload_id = started["UploadId"]
            number = len(self._parts) + 1
            answer = s3.upload_part(
                Bucket=_bucket(), Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=b"".join(self._buffer)
            )
        except ClientError as exc:
            raise StorageError(f"could not write {self.key}") from exc
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        self._buffer, self._buffered = [], 0
