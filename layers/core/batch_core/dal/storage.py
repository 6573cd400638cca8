"""S3 access: the only place that knows the object key layout."""

import itertools
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from boto3.s3.transfer import TransferConfig

from batch_core.dal.clients import AWS_ERRORS, AwsClients, error_code, storage_error
from batch_core.errors import StorageError
from batch_core.settings import Settings

JSONL = "application/jsonl"
_MIN_PART_BYTES = 8 * 1024 * 1024
# S3 joins parts of at least 5 MiB, but for the last, and copies at most 5 GiB into one part.
_S3_MIN_PART_BYTES = 5 * 1024 * 1024
_S3_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024
_JOIN_CONCURRENCY = 4
_MISSING = ("404", "NoSuchKey", "NotFound")
_CHANGED = ("412", "PreconditionFailed")
# One CopyObject request up to S3's 5 GB limit; only larger objects pay for a multipart copy.
_COPY = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=512 * 1024**2)


# A byte range of an object: its key, the first byte and the end (exclusive).
Range = tuple[str, int, int]


class BlobHead(NamedTuple):
    """What a HEAD of an object tells: the version it is (its ETag) and its size."""

    etag: str
    size: int


class BlobStore:
    """The bucket's bytes: batch inputs, attempts' outputs, assembled parts, files, console objects, uploads, spooled
    answers. Keys start with their kind, so each kind's lifecycle rule can select it by prefix."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.bucket_name = settings.bucket_name
        self._aws = aws

    def input_key(self, tenant_id: str, batch_id: str) -> str:
        return f"{_batch_prefix(tenant_id, batch_id)}/input.jsonl"

    def attempt_key(self, tenant_id: str, batch_id: str, unit: int, attempt: int) -> str:
        return f"{_batch_prefix(tenant_id, batch_id)}/units/{unit:06d}/attempt-{attempt}.jsonl"

    def part_key(self, tenant_id: str, batch_id: str, first_block: int, end_block: int, stream: str) -> str:
        """A part's object of `stream` (output or errors): named by its blocks, so assembling them again writes
        the same bytes to the same key."""
        return f"{_batch_prefix(tenant_id, batch_id)}/parts/{first_block:06d}-{end_block:06d}-{stream}.jsonl"

    def output_key(self, tenant_id: str, batch_id: str) -> str:
        return f"{_batch_prefix(tenant_id, batch_id)}/output.jsonl"

    def error_key(self, tenant_id: str, batch_id: str) -> str:
        return f"{_batch_prefix(tenant_id, batch_id)}/errors.jsonl"

    def results_key(self, tenant_id: str, batch_id: str, status: str | None) -> str:
        return f"{_batch_prefix(tenant_id, batch_id)}/results-{status or 'all'}.jsonl"

    def file_key(self, tenant_id: str, file_id: str) -> str:
        return f"files/{tenant_id}/{file_id}"

    def upload_part_key(self, tenant_id: str, upload_id: str, part_id: str) -> str:
        return f"uploads/{tenant_id}/{upload_id}/{part_id}"

    def new_bucket_object_key(self, tenant_id: str, bucket: str) -> str:
        """Where a console object's bytes go: the tenant's own, never expired by a lifecycle rule."""
        return f"buckets/{tenant_id}/{bucket}/{uuid.uuid4().hex}"

    def batch_output_key(self, tenant_id: str, bucket: str, batch_id: str) -> str:
        """Where a batch's output copy goes in the tenant's bucket: one key per batch, so a rerun writes it again."""
        return f"buckets/{tenant_id}/{bucket}/{batch_id}_output"

    def new_staging_key(self, tenant_id: str) -> str:
        """The target of a presigned PUT URL: the URL stays usable for its hour, so nothing a record points to
        at completion may be written through it."""
        return f"staging/{tenant_id}/{uuid.uuid4().hex}"

    def new_spool_key(self, tenant_id: str) -> str:
        """An answer too large for Lambda, kept for the client to fetch; a lifecycle rule drops `spool/` after a day."""
        return f"spool/{tenant_id}/{uuid.uuid4().hex}"

    def put(self, key: str, data: bytes, content_type: str = JSONL) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket_name, Key=key, Body=data, ContentType=content_type)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not write {key}", exc) from exc

    def get(self, key: str) -> bytes:
        try:
            return self._s3.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read {key}", exc) from exc

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start` to `end` (exclusive) of an object: one ranged GET."""
        try:
            answer = self._s3.get_object(Bucket=self.bucket_name, Key=key, Range=f"bytes={start}-{end - 1}")
            return answer["Body"].read()
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read bytes {start}-{end} of {key}", exc) from exc

    def chunks(self, key: str, size: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes as a stream of chunks."""
        try:
            yield from self._s3.get_object(Bucket=self.bucket_name, Key=key)["Body"].iter_chunks(size)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read {key}", exc) from exc

    def head(self, key: str) -> BlobHead | None:
        """The object's version and size; None when there is no such object."""
        try:
            answer = self._s3.head_object(Bucket=self.bucket_name, Key=key)
        except AWS_ERRORS as exc:
            if error_code(exc) in _MISSING:
                return None
            raise storage_error(f"could not read {key}", exc) from exc
        return BlobHead(answer["ETag"], answer["ContentLength"])

    def copy(self, source: str, target: str) -> None:
        """A server-side copy of any size: the bytes never pass through the caller."""
        try:
            self._copy(source, target, {})
        except AWS_ERRORS as exc:
            raise storage_error(f"could not copy {source}", exc) from exc

    def copy_version(self, source: str, etag: str, target: str) -> bool:
        """A server-side copy of exactly the version of `source` whose ETag is `etag`, of any size;
        False when `source` has changed since or is gone, and then nothing is written."""
        try:
            self._copy(source, target, {"CopySourceIfMatch": etag})
        except AWS_ERRORS as exc:
            if error_code(exc) in (*_MISSING, *_CHANGED):
                return False
            raise storage_error(f"could not copy {source}", exc) from exc
        return True

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket_name, Key=key)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not delete {key}", exc) from exc

    def delete_many(self, keys: list[str]) -> None:
        """Deletes many objects, a thousand to a request (S3's most)."""
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": key} for key in keys[start : start + 1000]]
            try:
                answer = self._s3.delete_objects(Bucket=self.bucket_name, Delete={"Objects": chunk, "Quiet": True})
            except AWS_ERRORS as exc:
                raise storage_error(f"could not delete {len(chunk)} objects", exc) from exc
            if answer.get("Errors"):
                raise StorageError(f"could not delete {len(answer['Errors'])} objects: {answer['Errors'][0]}")

    def download_url(self, key: str, seconds: int = 3600) -> str:
        return self._presign("get_object", {"Bucket": self.bucket_name, "Key": key}, seconds)

    def upload_url(self, key: str, content_type: str, seconds: int = 3600) -> str:
        return self._presign(
            "put_object", {"Bucket": self.bucket_name, "Key": key, "ContentType": content_type}, seconds
        )

    def writer(self, key: str, content_type: str = JSONL) -> "BlobWriter":
        return BlobWriter(self, key, content_type)

    def start_multipart(self, key: str, content_type: str) -> str:
        """Starts a multipart upload of `key`; returns its id."""
        return self._multipart("create_multipart_upload", key, ContentType=content_type)["UploadId"]

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Uploads part `number` of a multipart upload; returns the part's ETag."""
        return self._multipart("upload_part", key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]

    def copy_part(self, key: str, upload_id: str, number: int, source: Range) -> str:
        """Copies a byte range of another object, server side, as part `number`; returns the part's ETag."""
        name, start, end = source
        answer = self._multipart(
            "upload_part_copy",
            key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.bucket_name, "Key": name},
            CopySourceRange=f"bytes={start}-{end - 1}",
        )
        return answer["CopyPartResult"]["ETag"]

    def join(self, key: str, pieces: list[tuple[str, int]], content_type: str = JSONL) -> int:
        """Writes `key` as the objects `pieces` (key and size of each) one after another, copying them server side
        wherever S3 allows, and returns its size. Memory stays at a few parts, whatever the size."""
        plan = _join_plan(pieces)
        upload_id = self.start_multipart(key, content_type)
        try:
            with ThreadPoolExecutor(max_workers=_JOIN_CONCURRENCY) as pool:
                numbered = enumerate(plan, start=1)
                etags = list(pool.map(lambda part: self._join_part(key, upload_id, *part), numbered))
            self.complete_multipart(key, upload_id, etags)
        except BaseException:
            self.abort_multipart(key, upload_id)
            raise
        return sum(size for _, size in pieces)

    def complete_multipart(self, key: str, upload_id: str, etags: list[str]) -> None:
        """Joins the parts, whose ETags are listed in order, into the object."""
        parts = [{"ETag": etag, "PartNumber": number} for number, etag in enumerate(etags, start=1)]
        self._multipart("complete_multipart_upload", key, UploadId=upload_id, MultipartUpload={"Parts": parts})

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self._multipart("abort_multipart_upload", key, UploadId=upload_id)

    def open_uploads(self) -> list[str]:
        """The keys of multipart uploads begun and neither completed nor aborted (the first thousand)."""
        try:
            answer = self._s3.list_multipart_uploads(Bucket=self.bucket_name)
        except AWS_ERRORS as exc:
            raise storage_error("could not list the bucket's multipart uploads", exc) from exc
        return sorted(upload["Key"] for upload in answer.get("Uploads", []))

    @property
    def _s3(self) -> Any:
        return self._aws.client("s3")

    def _copy(self, source: str, target: str, conditions: dict[str, str]) -> None:
        self._s3.copy(
            {"Bucket": self.bucket_name, "Key": source}, self.bucket_name, target, ExtraArgs=conditions, Config=_COPY
        )

    def _join_part(self, key: str, upload_id: str, number: int, part: tuple[bool, list[Range]]) -> str:
        copied, ranges = part
        if copied:
            return self.copy_part(key, upload_id, number, ranges[0])
        return self.put_part(key, upload_id, number, b"".join(self.get_range(*source) for source in ranges))

    def _multipart(self, operation: str, key: str, **arguments: Any) -> Any:
        try:
            return getattr(self._s3, operation)(Bucket=self.bucket_name, Key=key, **arguments)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not write {key}", exc) from exc

    def _presign(self, operation: str, params: dict[str, str], seconds: int) -> str:
        try:
            return self._s3.generate_presigned_url(operation, Params=params, ExpiresIn=seconds)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not sign a URL for {params['Key']}", exc) from exc


def _join_plan(pieces: list[tuple[str, int]]) -> list[tuple[bool, list[Range]]]:
    """The parts that join `pieces`, each (copied, ranges): a copied part is one range of at least 5 MiB, copied
    server side; any other part gathers ranges to read until it has 5 MiB, taking from a larger piece only what it
    lacks when the rest of that piece can still be copied. Only the last part may be smaller."""
    plan: list[tuple[bool, list[Range]]] = []
    gathered: list[Range] = []
    size = 0
    for key, length in pieces:
        start = 0
        if gathered:
            lacking = _S3_MIN_PART_BYTES - size
            start = lacking if length - lacking >= _S3_MIN_PART_BYTES else length
            gathered.append((key, 0, start))
            size += start
            if size >= _S3_MIN_PART_BYTES:
                plan.append((False, gathered))
                gathered, size = [], 0
        if start == length:
            continue
        if length - start >= _S3_MIN_PART_BYTES:
            plan.extend((True, [copied]) for copied in _copied_ranges(key, start, length))
        else:
            gathered, size = [(key, start, length)], length - start
    if gathered:
        plan.append((False, gathered))
    return plan


def _copied_ranges(key: str, start: int, end: int) -> list[Range]:
    """`start` to `end` of `key` in as few equal ranges as S3 copies in one part (5 GiB at most); each keeps
    5 MiB at least, as the whole does."""
    count = -(-(end - start) // _S3_MAX_PART_BYTES)
    bounds = [start + (end - start) * n // count for n in range(count + 1)]
    return [(key, first, last) for first, last in itertools.pairwise(bounds)]


def _batch_prefix(tenant_id: str, batch_id: str) -> str:
    return f"batches/{tenant_id}/{batch_id}"


class BlobWriter:
    """Writes one object from many small pieces without holding it whole: a multipart upload once it
    outgrows one part, a single PUT otherwise. Nothing is written for an object that stays empty.

    Used as a context manager: the object is finished when the block ends (`written` then says whether it
    exists), and an error inside the block, or while finishing, aborts it, leaving no upload behind."""

    def __init__(self, blobs: BlobStore, key: str, content_type: str = JSONL):
        self.key = key
        self.content_type = content_type
        self.size = 0
        self._blobs = blobs
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._upload_id: str | None = None
        self._etags: list[str] = []
        self.written = False

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if kind is not None:
            self._abort()
            return
        try:
            self._close()
        except BaseException:
            self._abort()
            raise

    def write(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        self.size += len(data)
        if self._buffered >= _MIN_PART_BYTES:
            self._upload_part()

    def _close(self) -> None:
        if self._upload_id is None:
            if self.size:
                self._blobs.put(self.key, b"".join(self._buffer), self.content_type)
            self.written = self.size > 0
            return
        if self._buffered:
            self._upload_part()
        self._blobs.complete_multipart(self.key, self._upload_id, self._etags)
        self.written = True

    def _abort(self) -> None:
        if self._upload_id is not None:
            self._blobs.abort_multipart(self.key, self._upload_id)

    def _upload_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._blobs.start_multipart(self.key, self.content_type)
        number = len(self._etags) + 1
        self._etags.append(self._blobs.put_part(self.key, self._upload_id, number, b"".join(self._buffer)))
        self._buffer, self._buffered = [], 0
