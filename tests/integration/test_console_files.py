import base64
import json
from typing import Any

import boto3
import pytest
import requests

from batch_core.dal.objects_db import ObjectStore
from embedded.system import LocalSystem
from tests.integration.conftest import KEY_B, Console, chat_line, input_file_lines, table_holds_only_api_keys

BUCKETS = "/api/client/v1/files/buckets"


def _upload(console: Console, bucket: str, name: str, data: bytes, **extra: object):
    body = {"fileName": name, "data": base64.b64encode(data).decode(), **extra}
    return console.call("POST", f"{BUCKETS}/{bucket}/objects", body)


def test_upload_get_download_list_and_delete_an_object(console: Console) -> None:
    uploaded = _upload(console, "inputs", "lines.jsonl", b'{"a": 1}\n', metadata={"team": "x"}, keyHint="my lines")

    assert uploaded.status == 201
    file = uploaded.json()["file"]
    assert file["key"] == "my-lines" and file["bucketKey"] == "inputs" and file["fileName"] == "lines.jsonl"
    assert file["contentType"] == "application/jsonl" and file["size"] == 9 and file["metadata"] == {"team": "x"}
    assert {"_id", "createdAt", "updatedAt"} <= set(file)
    assert console.call("GET", f"{BUCKETS}/inputs/objects/my-lines").json() == {"file": file}
    downloaded = console.call("GET", f"{BUCKETS}/inputs/objects/my-lines/download")
    assert downloaded.body == b'{"a": 1}\n' and downloaded.headers["content-type"] == "application/jsonl"
    assert console.call("DELETE", f"{BUCKETS}/inputs/objects/my-lines").json() == {
        "message": "deleted",
        "bucketKey": "inputs",
        "objectKey": "my-lines",
    }
    assert console.call("GET", f"{BUCKETS}/inputs/objects/my-lines").status == 404


def test_a_data_url_keeps_its_type_and_a_taken_key_gets_a_new_one(console: Console) -> None:
    first = _upload(console, "pics", "a.txt", b"one").json()["file"]
    second = console.call(
        "POST",
        f"{BUCKETS}/pics/objects",
        {"fileName": "a.txt", "data": "data:text/csv;base64," + base64.b64encode(b"x,y").decode()},
    ).json()["file"]

    assert first["key"] == "a.txt"
    assert second["key"].startswith("a.txt-") and second["contentType"] == "text/csv" and second["size"] == 3


def test_listing_pages_with_a_cursor(console: Console) -> None:
    for n in range(5):
        _upload(console, "many", f"f{n}.txt", b"x")

    first = console.call("GET", f"{BUCKETS}/many/objects", query="limit=2").json()
    second = console.call("GET", f"{BUCKETS}/many/objects", query=f"limit=2&cursor={first['nextCursor']}").json()
    third = console.call("GET", f"{BUCKETS}/many/objects", query=f"limit=2&cursor={second['nextCursor']}").json()

    keys = [file["key"] for page in (first, second, third) for file in page["files"]]
    assert keys == [f"f{n}.txt" for n in range(5)]
    assert (first["count"], third["count"], third["nextCursor"]) == (2, 1, None)


def test_buckets_are_per_tenant(console: Console, system: LocalSystem) -> None:
    _upload(console, "private", "secret.txt", b"mine")

    other = Console(system, KEY_B)

    assert other.call("GET", f"{BUCKETS}/private/objects/secret.txt").status == 404
    assert other.call("GET", f"{BUCKETS}/private/objects").json()["files"] == []


def test_bad_uploads_are_400_naming_the_field(console: Console) -> None:
    bad_data = console.call("POST", f"{BUCKETS}/b/objects", {"fileName": "x", "data": "%%% not base64"})
    bad_bucket = _upload(console, "no/slash", "x", b"x")

    assert bad_data.status == 400 and bad_data.json() == {"error": "data must be base64 or a data URL"}
    assert bad_bucket.status in (400, 404)


def test_input_file_batch_writes_its_output_into_the_output_bucket(console: Console, system: LocalSystem) -> None:
    lines = [
        {
            "custom_id": f"f{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            **{"body": chat_line("", f"file {n}")["body"]},
        }
        for n in range(4)
    ]
    data = "\r\n".join(json.dumps(line) for line in lines).encode() + b"\r\n\r\n"
    key = _upload(console, "inputs", "batch.jsonl", data).json()["file"]["key"]

    created = console.create(
        {
            "endpoint": "/v1/chat/completions",
            "input_file": {"bucket_key": "inputs", "object_key": key},
            "output_bucket_key": "outputs",
        }
    )
    batch = console.wait(created.json()["id"])

    assert created.status == 201 and created.json()["input_file"] == {"bucket_key": "inputs", "object_key": key}
    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 4
    output = batch["output_file"]
    assert output["bucket_key"] == "outputs" and output["object_key"]
    written = console.call("GET", f"{BUCKETS}/outputs/objects/{output['object_key']}/download").body
    assert [json.loads(line)["custom_id"] for line in written.splitlines()] == ["f0", "f1", "f2", "f3"]
    as_openai = console.call("GET", f"/v1/batches/{batch['id']}").json()
    assert as_openai["input_file_id"] and as_openai["model"] == "gpt-4o-mini" == batch["model"]
    copied = console.call("GET", f"/v1/files/{as_openai['input_file_id']}/content").body
    assert copied == data


def test_a_missing_input_object_is_400_and_stores_nothing(console: Console, system: LocalSystem) -> None:
    answer = console.create(
        {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "inputs", "object_key": "nope"}}
    )

    assert answer.status == 400
    assert answer.json() == {"error": "input_file: Object 'nope' not found in bucket 'inputs'"}
    assert (
        boto3.client("stepfunctions").list_executions(stateMachineArn=system.stack.ref("BatchStateMachine"))[
            "executions"
        ]
        == []
    )


def _presign(console: Console, bucket: str, name: str) -> dict:
    answer = console.call("POST", f"{BUCKETS}/{bucket}/uploads", {"fileName": name})
    assert answer.status == 201
    return answer.json()


def _put(presigned: dict, data: bytes) -> None:
    """What a client does with the upload URL (moto answers it in-process)."""
    answer = requests.put(presigned["uploadUrl"], data=data, headers=presigned["headers"], timeout=10)
    assert answer.status_code == 200


def test_a_put_to_the_upload_url_after_complete_changes_nothing_the_object_shows(console: Console) -> None:
    presigned = _presign(console, "direct", "notes.txt")
    key = presigned["file"]["key"]
    _put(presigned, b"first bytes")
    completed = console.call("POST", f"{BUCKETS}/direct/uploads/{key}/complete")

    _put(presigned, b"other, longer bytes")

    assert completed.status == 200 and completed.json()["file"]["size"] == len(b"first bytes")
    assert console.call("GET", f"{BUCKETS}/direct/objects/{key}/download").body == b"first bytes"
    assert console.call("GET", f"{BUCKETS}/direct/objects/{key}").json()["file"]["size"] == len(b"first bytes")


def test_completing_an_upload_twice_is_400_and_keeps_the_first_bytes(console: Console) -> None:
    presigned = _presign(console, "direct", "twice.txt")
    key = presigned["file"]["key"]
    _put(presigned, b"one")
    console.call("POST", f"{BUCKETS}/direct/uploads/{key}/complete")
    _put(presigned, b"two, again")

    again = console.call("POST", f"{BUCKETS}/direct/uploads/{key}/complete")

    assert again.status == 400
    assert again.json() == {"error": "object 'twice.txt' in bucket 'direct' is already complete"}
    assert console.call("GET", f"{BUCKETS}/direct/objects/{key}/download").body == b"one"


def test_an_object_presigned_but_never_uploaded_is_404_until_completed(console: Console) -> None:
    presigned = _presign(console, "direct", "later.txt")
    key = presigned["file"]["key"]

    downloaded = console.call("GET", f"{BUCKETS}/direct/objects/{key}/download")
    found = console.call("GET", f"{BUCKETS}/direct/objects/{key}")
    listed = console.call("GET", f"{BUCKETS}/direct/objects").json()
    early = console.call("POST", f"{BUCKETS}/direct/uploads/{key}/complete")

    assert downloaded.status == 404 and found.status == 404
    assert downloaded.json() == {"error": "Object 'later.txt' not found in bucket 'direct'"}
    assert listed["files"] == []
    assert early.status == 400
    assert early.json() == {"error": "no bytes were uploaded for object 'later.txt'; PUT them to the upload URL first"}


def _source_key(system: LocalSystem, bucket: str, key: str) -> str:
    found = system.stores.objects.get("tenant-a", bucket, key)
    assert found is not None
    return found.s3_key


def _file_batch(console: Console, key: str) -> str:
    created = console.create(
        {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "inputs", "object_key": key}}
    )
    assert created.status == 201
    return created.json()["id"]


def test_a_batch_runs_the_lines_it_validated_though_its_object_is_overwritten_after(
    console: Console, system: LocalSystem
) -> None:
    key = _upload(console, "inputs", "pinned.jsonl", input_file_lines("kept", 4)).json()["file"]["key"]
    batch_id = _file_batch(console, key)
    console.wait(batch_id, {"in_progress"}, deliver=False)

    system.stores.blobs.put(_source_key(system, "inputs", key), b'{"not": "validated"}\n' * 9)
    batch = console.wait(batch_id)

    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 4
    assert [line["custom_id"] for line in console.result_lines(batch_id)] == [f"kept{n}" for n in range(4)]


def test_a_batch_whose_object_changed_before_it_was_prepared_fails_naming_the_input_file(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _upload(console, "inputs", "swapped.jsonl", input_file_lines("first", 3)).json()["file"]["key"]
    invoke = system.lambdas.invoke

    def swap_then_invoke(function: str, event: Any) -> Any:
        if function.endswith("PrepareFunction"):
            system.stores.blobs.put(_source_key(system, "inputs", key), input_file_lines("late", 5))
        return invoke(function, event)

    monkeypatch.setattr(system.lambdas, "invoke", swap_then_invoke)
    batch = console.wait(_file_batch(console, key))

    message = (
        "input_file: object 'swapped.jsonl' in bucket 'inputs' changed or was deleted after the batch was created;"
        " create the batch again"
    )
    assert batch["status"] == "failed" and batch["error_message"] == message
    assert batch["errors"] == [{"code": "invalid_input", "message": message, "line": None, "param": "input_file"}]
    assert batch["request_counts"]["total"] == 0


def test_deleting_the_input_object_while_its_batch_runs_lets_every_line_finish(console: Console) -> None:
    key = _upload(console, "inputs", "deleted.jsonl", input_file_lines("d", 7)).json()["file"]["key"]
    batch_id = _file_batch(console, key)
    console.wait(batch_id, {"in_progress"}, deliver=False)

    deleted = console.call("DELETE", f"{BUCKETS}/inputs/objects/{key}")
    batch = console.wait(batch_id)

    assert deleted.status == 200
    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 7
    assert [line["custom_id"] for line in console.result_lines(batch_id)] == [f"d{n}" for n in range(7)]


def test_buckets_list_and_get_answer_the_console_sdk_shape(console: Console, system: LocalSystem) -> None:
    _upload(console, "alpha", "a.txt", b"a")
    _upload(console, "beta", "b.txt", b"b")
    _upload(console, "beta", "c.txt", b"c")
    Console(system, KEY_B).call("POST", f"{BUCKETS}/gamma/objects", {"fileName": "x", "data": "eA=="})

    listed = console.call("GET", BUCKETS)
    got = console.call("GET", f"{BUCKETS}/beta")

    assert listed.status == 200 and listed.json()["count"] == 2
    buckets = listed.json()["buckets"]
    assert [bucket["key"] for bucket in buckets] == ["alpha", "beta"]
    assert set(buckets[1]) == {"_id", "key", "name", "provider", "status", "createdAt", "updatedAt"}
    assert (buckets[1]["name"], buckets[1]["provider"], buckets[1]["status"]) == ("beta", "s3", "active")
    assert got.status == 200 and got.json() == {"bucket": buckets[1]}
    assert buckets[1]["createdAt"] <= buckets[1]["updatedAt"]


def test_an_unknown_bucket_is_404_with_a_clear_error(console: Console) -> None:
    answer = console.call("GET", f"{BUCKETS}/nothing-here")

    assert answer.status == 404 and answer.json() == {"error": "Bucket 'nothing-here' not found"}


def test_objects_list_honours_search_on_name_and_key_ignoring_case(console: Console) -> None:
    for name in ("Report-2024.csv", "notes.txt", "old-report.txt", "image.png"):
        _upload(console, "docs", name, b"x")
    _upload(console, "docs", "plain.txt", b"x", keyHint="quarterly REPORT")

    first = console.call("GET", f"{BUCKETS}/docs/objects", query="search=report&limit=2").json()
    rest = console.call("GET", f"{BUCKETS}/docs/objects", query=f"search=report&limit=2&cursor={first['nextCursor']}")

    assert [file["key"] for file in first["files"]] == ["Report-2024.csv", "old-report.txt"]
    assert [file["key"] for file in rest.json()["files"]] == ["quarterly-REPORT"]
    assert rest.json()["nextCursor"] is None


def test_object_metadata_keeps_any_json_value(console: Console) -> None:
    metadata = {"score": 0.5, "tags": ["a", "b"], "nested": {"ok": True, "n": None}, "empty": ""}

    uploaded = _upload(console, "meta", "m.txt", b"x", metadata=metadata)

    assert uploaded.status == 201 and uploaded.json()["file"]["metadata"] == metadata
    assert console.call("GET", f"{BUCKETS}/meta/objects/m.txt").json()["file"]["metadata"] == metadata


OVERSIZED_UPLOADS = [
    ({"keyHint": "k" * 2000}, "keyHint: String should have at most 255 characters"),
    ({"fileName": "f" * 256}, "fileName: String should have at most 255 characters"),
    ({"contentType": "text/" + "x" * 300}, "contentType: String should have at most 255 characters"),
    ({"metadata": {"big": "v" * 450_000}}, "metadata: metadata is longer than 8192 characters as JSON"),
    ({"metadata": {f"k{n}": n for n in range(33)}}, "metadata: metadata may hold at most 32 keys"),
    ({"metadata": {"k" * 65: 1}}, f"metadata: metadata key '{'k' * 40}…' is longer than 64 characters"),
]


@pytest.mark.parametrize(("fields", "message"), OVERSIZED_UPLOADS, ids=[m[:30] for _, m in OVERSIZED_UPLOADS])
def test_an_oversized_upload_field_is_400_and_writes_nothing(
    console: Console, system: LocalSystem, fields: dict[str, object], message: str
) -> None:
    inline = console.call("POST", f"{BUCKETS}/b/objects", {"fileName": "x.txt", "data": "eA==", **fields})
    presigned = console.call("POST", f"{BUCKETS}/b/uploads", {"fileName": "x.txt", **fields})

    assert (inline.status, inline.json()) == (400, {"error": message})
    assert (presigned.status, presigned.json()) == (400, {"error": message})
    assert boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"))["KeyCount"] == 0
    assert table_holds_only_api_keys(system)


def test_an_object_key_past_the_bound_is_404_not_a_storage_error(console: Console) -> None:
    answer = console.call("GET", f"{BUCKETS}/b/objects/{'k' * 2000}")

    assert answer.status == 404
    assert answer.json() == {"error": f"Object '{'k' * 40}…' not found in bucket 'b'"}


def test_a_complete_whose_write_went_through_before_a_retry_keeps_the_objects_bytes(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    presigned = _presign(console, "direct", "retried.txt")
    key = presigned["file"]["key"]
    _put(presigned, b"kept bytes")
    complete = ObjectStore.complete

    def written_then_condition_failed(self: ObjectStore, *arguments: Any) -> bool:
        assert complete(self, *arguments)
        return False

    monkeypatch.setattr(ObjectStore, "complete", written_then_condition_failed)
    completed = console.call("POST", f"{BUCKETS}/direct/uploads/{key}/complete")

    assert completed.status == 200 and completed.json()["file"]["size"] == len(b"kept bytes")
    assert console.call("GET", f"{BUCKETS}/direct/objects/{key}/download").body == b"kept bytes"


def test_an_upload_abandoned_past_its_expiry_frees_its_key(console: Console, system: LocalSystem) -> None:
    abandoned = _presign(console, "direct", "again.txt")["file"]["key"]
    found = system.stores.objects.get("tenant-a", "direct", abandoned)
    assert found is not None
    system.stores.objects.put("tenant-a", found.stored, found.s3_key, new=False, complete=False, ttl=1)

    again = _presign(console, "direct", "again.txt")["file"]["key"]

    assert abandoned == again == "again.txt"
