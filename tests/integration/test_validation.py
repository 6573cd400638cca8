from typing import Any

import boto3
import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, queue_url

CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"


def _chat(*entries: Any, **extra: Any) -> dict[str, Any]:
    return {"endpoint": CHAT, "requests": list(entries), **extra}


REJECTIONS = [
    ({"requests": [chat_line("a", "x")]}, "endpoint: Field required"),
    (
        {"endpoint": "/v1/completions", "requests": [chat_line("a", "x")]},
        "endpoint: endpoint must be one of /v1/chat/completions, /v1/embeddings",
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
    assert answer.json() == {"error": message}
    _assert_nothing_stored_or_queued(system)


def test_body_that_is_not_json_is_400(console: Console, system: LocalSystem) -> None:
    answer = system.request("POST", "/api/client/v1/batches", key="key-tenant-a", body=b"{not json")

    assert answer.status == 400
    assert "JSON" in answer.json()["error"]
    _assert_nothing_stored_or_queued(system)


def _assert_nothing_stored_or_queued(system: LocalSystem) -> None:
    assert boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"))["KeyCount"] == 0
    items = boto3.client("dynamodb").scan(TableName=system.stack.ref("BatchTable"))["Items"]
    assert all(item["pk"]["S"].startswith("APIKEY#") for item in items)
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "WorkQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=system.stack.ref("BatchStateMachine"))
    assert executions["executions"] == []
