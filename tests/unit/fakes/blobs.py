"""The bucket's bytes in memory. The key layout and the multipart writer are the real BlobStore's own."""

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from batch_core.dal.storage import JSONL, BlobHead, BlobStore, Range
from batch_core.errors import StorageError
from batch_core.settings import Settings

# S3 refuses to join a part under 5 MiB unless it is the last one.
_MIN_PART_BYTES = 5 * 1024 * 1024


class NoAws:
    """The AWS clients of a fake: any use is a fake that forgot a method."""

    def client(self, service: str) -> Any:
        raise AssertionError(f"a unit test reached AWS ({service})")


@dataclass(frozen=True)
class Blob:
    data: bytes
    content_type: str
    etag: str


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


class FakeBlobStore(BlobStore):
    """Same answers as BlobStore: a missing object reads as StorageError and heads as None, byte ranges are
    S3's, ETags follow the bytes (as S3's MD5 ETags do), a versioned copy fails cleanly once the source changed."""

    def __init__(self, settings: Settings):
        super().__init__(settings, NoAws())  # type: ignore[arg-type]
        self.blobs: dict[str, Blob] = {}
        self.multipart: dict[str, tuple[str, dict[int, bytes]]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str = JSONL) -> None:
        with self._lock:
            self.blobs[key] = Blob(bytes(data), content_type, _etag(data))

    def get(self, key: str) -> bytes:
        return self._found(key).data

    def get_range(self, key: str, start: int, end: int) -> bytes:
        data = self._found(key).data
        if start >= len(data):
            raise StorageError(f"could not read bytes {start}-{end} of {key}")
        return data[start:end]

    def chunks(self, key: str, size: int = 1024 * 1024) -> Iterator[bytes]:
        data = self._found(key).data
        yield from (data[start : start + size] for start in range(0, len(data), size))

    def head(self, key: str) -> BlobHead | None:
        found = self.blobs.get(key)
        return BlobHead(found.etag, len(found.data)) if found else None

    def copy(self, source: str, target: str) -> None:
        found = self._found(source)
        with self._lock:
            self.blobs[target] = found

    def copy_version(self, source: str, etag: str, target: str) -> bool:
        found = self.blobs.get(source)
        if found is None or found.etag != etag:
            return False
        with self._lock:
            self.blobs[target] = found
        return True

    def delete(self, key: str) -> None:
        with self._lock:
            self.blobs.pop(key, None)

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self.delete(key)

    def download_url(self, key: str, seconds: int = 3600) -> str:
        return f"https://{self.bucket_name}.s3.test/{key}?expires={seconds}"

    def upload_url(self, key: str, content_type: str, seconds: int = 3600) -> str:
        return f"https://{self.bucket_name}.s3.test/{key}?put&expires={seconds}"

    def start_multipart(self, key: str, content_type: str) -> str:
        upload_id = f"{key}#{uuid.uuid4().hex}"
        with self._lock:
            self.multipart[upload_id] = (content_type, {})
        return upload_id

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        with self._lock:
            self._parts(key, upload_id)[number] = bytes(data)
        return _etag(data)

    def copy_part(self, key: str, upload_id: str, number: int, source: Range) -> str:
        name, start, end = source
        return self.put_part(key, upload_id, number, self._found(name).data[start:end])

    def complete_multipart(self, key: str, upload_id: str, etags: list[str]) -> None:
        with self._lock:
            numbered = self._parts(key, upload_id)
            parts = [numbered[number] for number in range(1, len(etags) + 1)]
            if any(len(part) < _MIN_PART_BYTES for part in parts[:-1]):
                raise StorageError(f"could not write {key}: a part other than the last is under 5 MiB")
            data = b"".join(parts)
            content_type = self.multipart[upload_id][0]
            self.blobs[key] = Blob(data, content_type, _etag(data).removesuffix('"') + f'-{len(parts)}"')
            del self.multipart[upload_id]

    def open_uploads(self) -> list[str]:
        with self._lock:
            return sorted(upload_id.rsplit("#", 1)[0] for upload_id in self.multipart)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with self._lock:
            self._parts(key, upload_id)
            del self.multipart[upload_id]

    def _found(self, key: str) -> Blob:
        found = self.blobs.get(key)
        if found is None:
            raise StorageError(f"could not read {key}")
        return found

    def _parts(self, key: str, upload_id: str) -> dict[int, bytes]:
        if upload_id not in self.multipart or not upload_id.startswith(f"{key}#"):
            raise StorageError(f"could not write {key}: no such upload")
        return self.multipart[upload_id][1]
