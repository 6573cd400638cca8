import json
from typing import Any

import boto3
import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, queue_url, table_holds_only_api_keys

CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"


def _chat(*entries: Any, **extra: Any) -> dict[str, Any]:
    return {"endpoint": CHAT, "requests": list(entries), **extra}


REJECTIONS = [
    ({"requests": [chat_line("a", "x")]}, "endpoint: Field required"),
    (
        {"endpoint": "/v1/images/generations", "requests": [chat_line("a", "x")]},
        "endpoint: endpoint must be one of /v1/chat/completions, /v1/embeddings, /v1/responses, /v1/completions, "
        "/v1/moderations",
    ),
    ({"endpoint": CHAT}, "provide exactly one of 'requests' or 'input_file'"),
    (
        _chat(chat_line("a", "x"), input_file={"bucket_key": "b", "object_key": "o.jsonl"}),
        "provide exactly one of 'requests' or 'input_file'",
    ),
    (_chat(), "the batch has no lines; it needs at least one"),
    (_chat(chat_line("a", "x"), "not an object"), "line 2: must be a JSON object"),
    (
        _chat({"custom_id": "a", "body": {"messages": [{"role": "user", "content": "x"}]}}),
        "line 1: body.model is required and must be a non-empty string",
    ),
    (_chat(chat_line("a", "x", model=" ")), "line 1: body.model is required and must be a non-empty string"),
    (
        _chat({"custom_id": "a", "body": {"model": "m"}}),
        "line 1: body.messages is required and must be a non-empty array",
    ),
    (
        {"endpoint": EMBED, "requests": [{"custom_id": "e", "body": {"model": "m"}}]},
        "line 1: body.input is required and must be a non-empty string or array",
    ),
    (
        _chat(
            {"custom_id": "s", "body": {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}}
        ),
        "line 1: body.stream must not be true: batch lines cannot stream",
    ),
    (
        _chat(chat_line("same", "x"), chat_line("other", "y"), chat_line("same", "z")),
        "line 3: custom_id 'same' duplicates line 1",
    ),
    (_chat(*[chat_line(f"n{n}", "x") for n in range(101)]), "the batch has more than 100 lines, the limit"),
    (
        _chat(chat_line("a", "x"), completion_window="2w"),
        "completion_window: completion_window '2w' must look like '30m', '24h' or '7d'",
    ),
    (_chat(chat_line("a", "x"), completion_window="8d"), "completion_window: completion_window must be at most 7d"),
    (
        _chat(chat_line("a", "x"), metadata={"k": {"list": ["v"] * 200}}),
        "metadata: metadata value of 'k' is longer than 512 characters",
    ),
    (
        _chat(chat_line("a", "x"), metadata={"k" * 65: "v"}),
        f"metadata: metadata key '{'k' * 40}…' is longer than 64 characters",
    ),
    (
        _chat(chat_line("a", "x"), metadata={f"k{n}": "v" for n in range(17)}),
        "metadata: metadata may hold at most 16 keys",
    ),
    (
        _chat(chat_line("a", "x"), metadata={"k": "v" * 513}),
        "metadata: metadata value of 'k' is longer than 512 characters",
    ),
]


@pytest.mark.parametrize(("body", "message"), REJECTIONS, ids=[message[:40] for _, message in REJECTIONS])
def test_invalid_create_is_400_naming_line_and_field_and_stores_nothing(
    console: Console, system: LocalSystem, body: dict[str, Any], message: str
) -> None:
    answer = console.create(body)

    assert answer.status == 400
    if message.startswith("line "):
        assert answer.json()["error"] == message
        assert [error["message"] for error in answer.json()["errors"]] == [message]
    else:
        assert answer.json() == {"error": message}
    _assert_nothing_stored_or_queued(system)


def test_body_that_is_not_json_is_400(console: Console, system: LocalSystem) -> None:
    answer = system.request("POST", "/api/client/v1/batches", key="key-tenant-a", body=b"{not json")

    assert answer.status == 400
    assert "JSON" in answer.json()["error"]
    _assert_nothing_stored_or_queued(system)


def _assert_nothing_stored_or_queued(system: LocalSystem) -> None:
    assert boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"))["KeyCount"] == 0
    assert table_holds_only_api_keys(system)
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "WorkQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=system.stack.ref("BatchStateMachine"))
    assert executions["executions"] == []


def _multipart(filename: str, data: bytes, part: str = "file", purpose: str = "batch") -> tuple[bytes, str]:
    boundary = "bound4ry"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="{part}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _openai(system: LocalSystem, method: str, path: str, body: bytes, content_type: str = "application/json"):
    return system.request(method, path, key="key-tenant-a", body=body, headers={"content-type": content_type})


def test_an_upload_filename_past_255_characters_is_400_and_writes_nothing(system: LocalSystem) -> None:
    body, content_type = _multipart("f" * 500_000, b'{"a": 1}\n')

    answer = _openai(system, "POST", "/v1/files", body, content_type)

    assert answer.status == 400
    assert answer.json()["error"]["message"] == "the 'file' part's filename is longer than 255 characters"
    assert answer.json()["error"]["param"] == "file"
    _assert_nothing_stored_or_queued(system)


OVERSIZED_OPENAI_BODIES = [
    (
        "/v1/uploads",
        {"filename": "f" * 500_000, "purpose": "batch", "bytes": 10, "mime_type": "text/jsonl"},
        "filename: String should have at most 255 characters",
    ),
    (
        "/v1/uploads",
        {"filename": "f.jsonl", "purpose": "p" * 100, "bytes": 10, "mime_type": "text/jsonl"},
        "purpose: String should have at most 64 characters",
    ),
    (
        "/v1/uploads",
        {"filename": "f.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "m" * 256},
        "mime_type: String should have at most 255 characters",
    ),
    (
        "/v1/batches",
        {"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "metadata": {"k": 1}},
        "metadata.k: Input should be a valid string",
    ),
    (
        "/v1/batches",
        {"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "metadata": {"k": "v" * 513}},
        "metadata: metadata value of 'k' is longer than 512 characters",
    ),
    (
        "/v1/batches",
        {"input_file_id": "f" * 65, "endpoint": "/v1/chat/completions"},
        "input_file_id: String should have at most 64 characters",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "message"), OVERSIZED_OPENAI_BODIES, ids=[m[:40] for _, _, m in OVERSIZED_OPENAI_BODIES]
)
def test_an_oversized_openai_field_is_400_naming_it_and_writes_nothing(
    system: LocalSystem, path: str, body: dict[str, Any], message: str
) -> None:
    answer = _openai(system, "POST", path, json.dumps(body).encode())

    assert answer.status == 400
    assert answer.json()["error"]["message"] == message
    _assert_nothing_stored_or_queued(system)


def test_completing_an_upload_bounds_its_part_ids_and_md5(system: LocalSystem) -> None:
    created = {"filename": "f.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "text/jsonl"}
    upload_id = _openai(system, "POST", "/v1/uploads", json.dumps(created).encode()).json()["id"]
    complete = f"/v1/uploads/{upload_id}/complete"

    too_many = _openai(system, "POST", complete, json.dumps({"part_ids": ["p"] * 10_001}).encode())
    too_long = _openai(system, "POST", complete, json.dumps({"part_ids": ["p" * 65]}).encode())
    long_md5 = _openai(system, "POST", complete, json.dumps({"part_ids": ["p"], "md5": "m" * 65}).encode())
    part_body, content_type = _multipart("n" * 300, b"x", part="data")
    long_part_name = _openai(system, "POST", f"/v1/uploads/{upload_id}/parts", part_body, content_type)

    assert (
        too_many.json()["error"]["message"]
        == "part_ids: List should have at most 10000 items after validation, not 10001"
    )
    assert too_long.json()["error"]["message"] == "part_ids.0: String should have at most 64 characters"
    assert long_md5.json()["error"]["message"] == "md5: String should have at most 64 characters"
    assert long_part_name.json()["error"]["message"] == "the 'data' part's filename is longer than 255 characters"
    assert {too_many.status, too_long.status, long_md5.status, long_part_name.status} == {400}
    assert boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"))["KeyCount"] == 0


@pytest.mark.parametrize(
    "path",
    ["/api/client/v1/batches/{id}", "/v1/batches/{id}", "/v1/files/{id}", "/v1/files/{id}/content"],
)
def test_an_id_past_the_bound_is_404_not_a_storage_error(system: LocalSystem, path: str) -> None:
    answer = system.request("GET", path.format(id="batch_" + "9" * 3000), key="key-tenant-a")

    assert answer.status == 404


def test_a_console_create_with_oversized_names_is_400_and_stores_nothing(system: LocalSystem) -> None:
    body = {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "b", "object_key": "k" * 2000}}

    answer = system.request("POST", "/api/client/v1/batches", key="key-tenant-a", body=json.dumps(body).encode())

    assert answer.status == 400
    assert answer.json() == {"error": "input_file.object_key: String should have at most 255 characters"}
    _assert_nothing_stored_or_queued(system)
