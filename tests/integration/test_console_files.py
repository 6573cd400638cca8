import base64
import json

import boto3
import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import KEY_B, Console, chat_line

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
    items = boto3.client("dynamodb").scan(TableName=system.stack.ref("BatchTable"))["Items"]
    assert all(item["pk"]["S"].startswith("APIKEY#") for item in items)


def test_an_object_key_past_the_bound_is_404_not_a_storage_error(console: Console) -> None:
    answer = console.call("GET", f"{BUCKETS}/b/objects/{'k' * 2000}")

    assert answer.status == 404
    assert answer.json() == {"error": f"Object '{'k' * 40}…' not found in bucket 'b'"}
