"""The OpenAI surface's file and upload records in memory."""

import threading
import time

from batch_core.errors import InvalidTransition
from batch_core.models.file import FileCheck, FileStatus, StoredFile
from batch_core.models.upload import Upload


class FakeFileStore:
    """Same methods and answers as FileStore: a record reads as gone once its expiry passed. FileStore.put_item
    (a transaction item for the upload store's completion) has no stand-in: the fake upload store calls `put`."""

    def __init__(self) -> None:
        self.records: dict[str, StoredFile] = {}

    def put(self, stored: StoredFile) -> None:
        self.records[stored.id] = stored.model_copy(deep=True)

    def get(self, file_id: str) -> StoredFile | None:
        found = self.records.get(file_id)
        return found.model_copy(deep=True) if found and _live(found) else None

    def checked(
        self, file_id: str, status: FileStatus, details: str | None = None, check: FileCheck | None = None
    ) -> None:
        found = self.records.get(file_id)
        if found is not None:
            changes = {"status": status, "status_details": details, "check": check}
            self.records[file_id] = found.model_copy(
                update={field: given for field, given in changes.items() if given is not None}, deep=True
            )

    def list(
        self, tenant_id: str, *, limit: int, after: str | None, oldest_first: bool = False, purpose: str | None = None
    ) -> list[StoredFile]:
        found = sorted(
            (
                stored
                for stored in self.records.values()
                if stored.tenant_id == tenant_id and _live(stored) and purpose in (None, stored.purpose)
            ),
            key=lambda stored: stored.id,
            reverse=not oldest_first,
        )
        if after is not None:
            found = [stored for stored in found if (stored.id > after if oldest_first else stored.id < after)]
        return [stored.model_copy(deep=True) for stored in found[:limit]]

    def delete(self, file_id: str) -> None:
        self.records.pop(file_id, None)


class FakeFileCheckQueue:
    """Same methods as FileCheckQueue: `sent` keeps the ids of the files queued to check."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, file_id: str) -> None:
        self.sent.append(file_id)


def _live(stored: StoredFile) -> bool:
    return stored.expires_at is None or stored.expires_at > time.time()


class FakeUploadStore:
    """Same methods and answers as UploadStore: one completer at a time, a claim lapsing after
    `claim_seconds`; completing stores the file's record with the upload's, together."""

    def __init__(self, files: FakeFileStore):
        self.records: dict[str, Upload] = {}
        self.claims: dict[str, tuple[str, int]] = {}
        self._files = files
        self._lock = threading.Lock()

    def put(self, upload: Upload) -> None:
        with self._lock:
            # A put replaces the whole record, any claim on it included.
            self.records[upload.id] = upload.model_copy(deep=True)
            self.claims.pop(upload.id, None)

    def get(self, upload_id: str) -> Upload | None:
        found = self.records.get(upload_id)
        return found.model_copy(deep=True) if found else None

    def claim(self, upload_id: str, claim: str, now: int, claim_seconds: int) -> None:
        with self._lock:
            self._check_unclaimed(upload_id, now - claim_seconds)
            self.claims[upload_id] = (claim, now)

    def release(self, upload_id: str, claim: str) -> None:
        with self._lock:
            if self._holds(upload_id, claim):
                del self.claims[upload_id]

    def finish(self, upload_id: str, claim: str, stored: StoredFile) -> None:
        with self._lock:
            if not self._holds(upload_id, claim):
                raise InvalidTransition(f"upload {upload_id} is no longer being completed by this request")
            upload = self.records[upload_id]
            self.records[upload_id] = upload.model_copy(update={"status": "completed", "file_id": stored.id})
            del self.claims[upload_id]
            self._files.put(stored)

    def cancel(self, upload_id: str, now: int, claim_seconds: int) -> None:
        with self._lock:
            self._check_unclaimed(upload_id, now - claim_seconds)
            self.records[upload_id] = self.records[upload_id].model_copy(update={"status": "cancelled"})

    def _check_unclaimed(self, upload_id: str, stale: int) -> None:
        upload = self.records.get(upload_id)
        claim = self.claims.get(upload_id)
        if upload is None or upload.status != "pending" or (claim is not None and claim[1] >= stale):
            raise InvalidTransition(f"upload {upload_id} is no longer pending, or is being completed")

    def _holds(self, upload_id: str, claim: str) -> bool:
        upload = self.records.get(upload_id)
        held = self.claims.get(upload_id)
        return upload is not None and upload.status == "pending" and held is not None and held[0] == claim
