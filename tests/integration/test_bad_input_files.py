import base64
import json

import boto3
import pytest

from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, queue_url

BUCKETS = "/api/client/v1/files/buckets"


def _line(custom_id: str, url: str = "/v1/chat/completions") -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": chat_line("", "x")["body"]})


BAD_FILES = [
    (
        f"{_line('a')}\n{{not json\n".encode(),
        "line 2: is not valid JSON (Expecting property name enclosed in double quotes)",
        "invalid_json_line",
    ),
    (
        f"{_line('a')}\n{_line('b', '/v1/embeddings')}\n".encode(),
        "line 2: url must be the batch's endpoint /v1/chat/completions",
        "url_mismatch",
    ),
    (f"{_line('a')}\n\n{_line('a')}\n".encode(), "line 3: custom_id 'a' duplicates line 1", "duplicate_custom_id"),
    (b"\n\n", "the batch has no lines; it needs at least one", "empty_file"),
    (
        "".join(_line(f"n{n}") + "\n" for n in range(101)).encode(),
        "the batch has more than 100 lines, the limit",
        "too_many_tasks",
    ),
    (
        _line("a").encode() + b"\n" + b'{"custom_id": "\xff\xfe"}\n',
        "line 2: is not UTF-8 text (byte 16)",
        "invalid_json_line",
    ),
    (
        json.dumps({"method": "POST", "url": "/v1/chat/completions", "body": chat_line("", "x")["body"]}).encode(),
        "line 1: custom_id is required in an input file",
        "invalid_input",
    ),
]


@pytest.mark.parametrize(("data", "message", "code"), BAD_FILES, ids=[message[:30] for _, message, _ in BAD_FILES])
def test_a_bad_input_file_fails_the_batch_naming_the_line_and_runs_nothing(
    console: Console, system: LocalSystem, simulator: Simulator, data: bytes, message: str, code: str
) -> None:
    key = console.call(
        "POST", f"{BUCKETS}/in/objects", {"fileName": "bad.jsonl", "data": base64.b64encode(data).decode()}
    ).json()["file"]["key"]

    created = console.create(
        {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "in", "object_key": key}}
    )
    batch = console.wait(created.json()["id"])

    assert batch["status"] == "failed"
    assert batch["error_message"] == message
    assert batch["errors"][0]["message"] == message and batch["errors"][0]["code"] == code
    # A big input's first units were queued while it was read: delivered now, each is dropped unrun.
    system.run_until(lambda: _queued(system) == {"ApproximateNumberOfMessages": "0"}, timeout=30)
    assert simulator.load.requests == 0
    assert console.items(batch["id"]).json()["data"] == []


def _queued(system: LocalSystem) -> dict[str, str]:
    return boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "WorkQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
