"""Console objects and buckets, OpenAI files and uploads, API keys: the conditions each record is written under."""

import time

import pytest

from batch_core.dal.api_keys_db import hash_api_key
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition
from batch_core.models.bucket_object import BucketObject
from batch_core.models.file import FileCheck, StoredFile
from batch_core.models.upload import Upload

NOW = int(time.time())


def bucket_object(key: str, name: str = "data.jsonl", size: int = 3) -> BucketObject:
    stamp = "2030-01-01T00:00:00Z"
    return BucketObject(
        id=f"id-{key}", key=key, bucketKey="docs", fileName=name, contentType="text/plain", size=size,
        createdAt=stamp, updatedAt=stamp,
    )  # fmt: skip


def test_a_new_object_takes_a_free_key_only(stores: Stores) -> None:
    first = stores.objects.put("tenant-a", bucket_object("k"), "s3/1", new=True)
    taken = stores.objects.put("tenant-a", bucket_object("k"), "s3/2", new=True)
    replaced = stores.objects.put("tenant-a", bucket_object("k", size=9), "s3/3", new=False)
    abandoned = stores.objects.put("tenant-a", bucket_object("u"), "staging/1", new=True, complete=False, ttl=NOW - 5)
    freed = stores.objects.put("tenant-a", bucket_object("u"), "staging/2", new=True, complete=False, ttl=NOW + 600)

    assert (first, taken, replaced, abandoned, freed) == (True, False, True, True, True)
    found = stores.objects.get("tenant-a", "docs", "k")
    assert found is not None and (found.stored.size, found.s3_key, found.complete) == (9, "s3/3", True)
    assert stores.objects.get("tenant-b", "docs", "k") is None


def test_an_upload_completes_once_from_its_staging_key(stores: Stores) -> None:
    stores.objects.put("tenant-a", bucket_object("u"), "staging/1", new=True, complete=False, ttl=NOW + 600)
    done = bucket_object("u", size=42)

    answers = [
        stores.objects.complete("tenant-a", done, "staging/other", "s3/final"),
        stores.objects.complete("tenant-a", done, "staging/1", "s3/final"),
        stores.objects.complete("tenant-a", done, "staging/1", "s3/again"),
    ]

    assert answers == [False, True, False]
    found = stores.objects.get("tenant-a", "docs", "u")
    assert found is not None and (found.stored.size, found.s3_key, found.complete) == (42, "s3/final", True)


def test_objects_list_complete_ones_by_key_after_a_key_and_by_search(stores: Stores) -> None:
    for key, name in (("c", "Report.jsonl"), ("a", "notes.txt"), ("b", "report-2.jsonl")):
        stores.objects.put("tenant-a", bucket_object(key, name), f"s3/{key}", new=True)
    stores.objects.put(
        "tenant-a", bucket_object("d", "report.tmp"), "staging/d", new=True, complete=False, ttl=NOW + 60
    )
    stores.objects.delete("tenant-a", "docs", "a")

    def keys(limit: int, after_key: str | None, search: str | None = None) -> list[str]:
        found = stores.objects.list("tenant-a", "docs", limit=limit, after_key=after_key, search=search)
        return [stored.key for stored in found]

    assert keys(10, None) == ["b", "c"]
    assert keys(1, "b") == ["c"]
    assert keys(10, None, search="REPORT") == ["b", "c"]


def test_a_bucket_keeps_its_id_and_creation_time_and_touches_its_update_time(stores: Stores) -> None:
    stores.objects.put_bucket("tenant-a", "docs", "2030-01-01T00:00:00Z")
    first = stores.objects.get_bucket("tenant-a", "docs")
    stores.objects.put_bucket("tenant-a", "docs", "2030-01-02T00:00:00Z")
    stores.objects.put_bucket("tenant-a", "alpha", "2030-01-03T00:00:00Z")

    later = stores.objects.get_bucket("tenant-a", "docs")

    assert first is not None and later is not None
    assert (later.id, later.createdAt, later.updatedAt) == (first.id, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z")
    assert [bucket.name for bucket in stores.objects.list_buckets("tenant-a")] == ["alpha", "docs"]
    assert stores.objects.list_buckets("tenant-b") == []


def stored_file(file_id: str, tenant_id: str = "tenant-a", expires_at: int | None = None) -> StoredFile:
    return StoredFile(
        id=file_id, tenant_id=tenant_id, filename="in.jsonl", purpose="batch", bytes=3, created_at=NOW,
        object_key=f"files/{file_id}", expires_at=expires_at,
    )  # fmt: skip


def test_files_list_live_ones_newest_first(stores: Stores) -> None:
    for file_id in ("file-1", "file-2", "file-3"):
        stores.files.put(stored_file(file_id))
    stores.files.put(stored_file("file-4", expires_at=NOW - 5))
    stores.files.put(stored_file("file-5", tenant_id="tenant-b"))
    stores.files.delete("file-2")

    assert [stored.id for stored in stores.files.list("tenant-a", limit=5, after=None)] == ["file-3", "file-1"]
    assert [stored.id for stored in stores.files.list("tenant-a", limit=5, after="file-3")] == ["file-1"]
    assert [stored.id for stored in stores.files.list("tenant-a", limit=1, after=None, oldest_first=True)] == ["file-1"]
    assert [stored.id for stored in stores.files.list("tenant-a", limit=5, after="file-1", oldest_first=True)] == [
        "file-3"
    ]
    assert (stores.files.get("file-4"), stores.files.get("file-2")) == (None, None)
    assert stores.files.get("file-1") == stored_file("file-1")


def test_files_list_only_those_of_the_purpose_asked_for(stores: Stores) -> None:
    stores.files.put(stored_file("file-1"))
    stores.files.put(stored_file("file-2").model_copy(update={"purpose": "batch_output"}))
    stores.files.put(stored_file("file-3"))

    listed = stores.files.list("tenant-a", limit=5, after=None, purpose="batch_output")

    assert [stored.id for stored in listed] == ["file-2"]
    assert [stored.id for stored in stores.files.list("tenant-a", limit=1, after=None, purpose="batch")] == ["file-3"]


def test_a_file_check_is_recorded_on_its_file_but_not_on_a_deleted_one(stores: Stores) -> None:
    stores.files.put(stored_file("file-1").model_copy(update={"status": "uploaded"}))
    stores.files.put(stored_file("file-2").model_copy(update={"status": "uploaded"}))
    check = FileCheck(etag='"e"', endpoint="/v1/chat/completions", lines=3, tokens=40, model="m", embedding_inputs=0)

    stores.files.checked("file-1", "processed", check=check)
    stores.files.checked("file-2", "error", details="line 2: body is required")
    stores.files.checked("file-9", "processed")

    assert stores.files.get("file-1") == stored_file("file-1").model_copy(update={"check": check})
    assert stores.files.get("file-2") == stored_file("file-2").model_copy(
        update={"status": "error", "status_details": "line 2: body is required"}
    )
    assert stores.files.get("file-9") is None


def upload(upload_id: str = "upload_1") -> Upload:
    return Upload(
        id=upload_id, tenant_id="tenant-a", filename="in.jsonl", purpose="batch", bytes=3, mime_type="text/jsonl",
        created_at=NOW, expires_at=NOW + 3600,
    )  # fmt: skip


def test_an_upload_has_one_completer_until_its_claim_lapses(stores: Stores) -> None:
    stores.uploads.put(upload())
    stores.uploads.claim("upload_1", "first", NOW, 60)

    with pytest.raises(InvalidTransition):
        stores.uploads.claim("upload_1", "second", NOW + 60, 60)
    with pytest.raises(InvalidTransition):
        stores.uploads.cancel("upload_1", NOW, 60)
    stores.uploads.release("upload_1", "second")
    with pytest.raises(InvalidTransition):
        stores.uploads.finish("upload_1", "second", stored_file("file-9"))
    stores.uploads.claim("upload_1", "second", NOW + 61, 60)
    with pytest.raises(InvalidTransition):
        stores.uploads.finish("upload_1", "first", stored_file("file-9"))
    stores.uploads.finish("upload_1", "second", stored_file("file-9"))

    completed = stores.uploads.get("upload_1")
    assert completed is not None and (completed.status, completed.file_id) == ("completed", "file-9")
    assert stores.files.get("file-9") == stored_file("file-9")
    with pytest.raises(InvalidTransition):
        stores.uploads.claim("upload_1", "third", NOW + 999, 60)


def test_a_released_upload_can_be_cancelled(stores: Stores) -> None:
    stores.uploads.put(upload())
    stores.uploads.claim("upload_1", "first", NOW, 60)
    stores.uploads.release("upload_1", "first")

    stores.uploads.cancel("upload_1", NOW, 60)

    cancelled = stores.uploads.get("upload_1")
    assert cancelled is not None and cancelled.status == "cancelled"
    with pytest.raises(InvalidTransition):
        stores.uploads.cancel("upload_missing", NOW, 60)


def test_an_api_key_names_its_tenant_until_it_is_revoked(stores: Stores) -> None:
    key_hash = stores.api_keys.put("key-a", "tenant-a")
    stores.api_keys.put("key-b", "tenant-b")

    revoked = [stores.api_keys.revoke(key_hash), stores.api_keys.revoke("no-such-hash")]

    assert key_hash == hash_api_key("key-a")
    assert revoked == [True, False]
    assert (stores.api_keys.find_tenant("key-a"), stores.api_keys.find_tenant("key-b")) == (None, "tenant-b")
    assert stores.api_keys.find_tenant("key-c") is None
    listed = [(key["tenant_id"], key["active"]) for key in stores.api_keys.list()]
    assert listed == [("tenant-a", False), ("tenant-b", True)]
