"""S3 access: the only place that knows the object key layout."""

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal.clients import client
from batch_core.errors import StorageError
from batch_core.settings import get_settings

JSONL = "application/jsonl"
_MIN_PART_BYTES = 8 * 1024 * 1024


def _bucket() -> str:
    return get_settings().bucket_name


def _batch_prefix(tenant_id: str, batch_id: str) -> str:
    return f"{tenant_id}/batches/{batch_id}"


def file_object_key(tenant_id: str, file_id: str) -> str:
    return f"{tenant_id}/files/{file_id}"


def delete_object(key: str) -> None:
    try:
        client("s3").delete_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        raise StorageError(f"could not delete {key}") from exc


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


def iter_object_lines(key: str) -> Iterator[bytes]:
    """The object's lines, each with its line ending, read as a stream."""
    try:
        body = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    except ClientError as exc:
        raise StorageError(f"could not read {key}") from exc
    pending = b""
    for chunk in body.iter_chunks(1024 * 1024):
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        yield from (line + b"\n" for line in lines)
    if pending:
        yield pending


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
        client("s3").complete_multipart_upload(
            Bucket=_bucket(), Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )
        return True

    def abort(self) -> None:
        if self._upload_id is not None:
            client("s3").abort_multipart_upload(Bucket=_bucket(), Key=self.key, UploadId=self._upload_id)

    def _upload_part(self) -> None:
        s3 = client("s3")
        if self._upload_id is None:
            started = s3.create_multipart_upload(Bucket=_bucket(), Key=self.key, ContentType=self.content_type)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        answer = s3.upload_part(
            Bucket=_bucket(), Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=b"".join(self._buffer)
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        self._buffer, self._buffered = [], 0
