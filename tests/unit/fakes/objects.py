"""The console's buckets and object records in memory."""

import threading
import time
import uuid
from dataclasses import dataclass

from batch_core.dal.objects_db import FoundObject, search_text
from batch_core.models.bucket_object import Bucket, BucketObject


@dataclass
class _Record:
    stored: BucketObject
    s3_key: str
    complete: bool
    ttl: int | None


class FakeObjectStore:
    """Same methods and answers as ObjectStore: an abandoned upload past its ttl reads as gone and frees its key;
    listing shows complete objects only, by key."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.records: dict[tuple[str, str, str], _Record] = {}
        self._lock = threading.Lock()

    def put_bucket(self, tenant_id: str, bucket: str, now: str) -> None:
        with self._lock:
            found = self.buckets.get((tenant_id, bucket))
            first = found or Bucket(id=uuid.uuid4().hex, key=bucket, name=bucket, createdAt=now, updatedAt=now)
            self.buckets[tenant_id, bucket] = first.model_copy(update={"updatedAt": now})

    def get_bucket(self, tenant_id: str, bucket: str) -> Bucket | None:
        return self.buckets.get((tenant_id, bucket))

    def list_buckets(self, tenant_id: str) -> list[Bucket]:
        return [self.buckets[key] for key in sorted(self.buckets) if key[0] == tenant_id]

    def put(
        self,
        tenant_id: str,
        stored: BucketObject,
        s3_key: str,
        *,
        new: bool,
        complete: bool = True,
        ttl: int | None = None,
    ) -> bool:
        key = (tenant_id, stored.bucketKey, stored.key)
        with self._lock:
            found = self.records.get(key)
            if new and found is not None and (found.ttl is None or found.ttl >= int(time.time())):
                return False
            self.records[key] = _Record(stored.model_copy(deep=True), s3_key, complete, ttl)
            return True

    def complete(self, tenant_id: str, done: BucketObject, staging_key: str, s3_key: str) -> bool:
        key = (tenant_id, done.bucketKey, done.key)
        with self._lock:
            found = self.records.get(key)
            if found is None or found.complete or found.s3_key != staging_key:
                return False
            changes = {"size": done.size, "updatedAt": done.updatedAt}
            self.records[key] = _Record(found.stored.model_copy(update=changes), s3_key, True, None)
            return True

    def get(self, tenant_id: str, bucket: str, key: str) -> FoundObject | None:
        found = self.records.get((tenant_id, bucket, key))
        if found is None or (found.ttl is not None and found.ttl <= time.time()):
            return None
        return FoundObject(found.stored.model_copy(deep=True), found.s3_key, found.complete)

    def list(
        self, tenant_id: str, bucket: str, *, limit: int, after_key: str | None, search: str | None = None
    ) -> list[BucketObject]:
        chosen = [
            record.stored.model_copy(deep=True)
            for (tenant, in_bucket, key), record in sorted(self.records.items())
            if (tenant, in_bucket) == (tenant_id, bucket)
            and record.complete
            and (after_key is None or key > after_key)
            and (not search or search.lower() in search_text(record.stored))
        ]
        return chosen[:limit]

    def delete(self, tenant_id: str, bucket: str, key: str) -> None:
        self.records.pop((tenant_id, bucket, key), None)
