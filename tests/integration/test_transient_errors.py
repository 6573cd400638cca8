"""A transient DynamoDB fault inside any workflow task, reads included, is retried by the workflow and the batch
ends as it would have without it."""

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend

from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line
from tests.waiting import wait_for

CHAT = "/v1/chat/completions"
# The core's boto3 clients make 6 attempts of a call (5 retries, standard mode): 6 failed calls outlast them, so
# the task itself fails once and only the workflow's own retry of the task gets the batch through.
FAULTS = 6
READS = ("get_item", "query")
CALLS = (*READS, "update_item", "put_item", "transact_write_items")
FAILED_ONCE = ["TaskScheduled", "TaskStarted", "TaskFailed: StorageError", "TaskScheduled", "TaskStarted"]
# DynamoDB's transient answers, with their HTTP status; boto3 retries both.
TRANSIENT = {"InternalServerError": 500, "ProvisionedThroughputExceededException": 400}


class TransientError(DynamodbException):
    def __init__(self, name: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + name, f"{name} (injected by the test)")
        self.code = TRANSIENT[name]


class DynamoDBFaults:
    """DynamoDB answers `error` to the first `count` of `calls` made while one function's handler runs.
    Only calls from the thread running it fail, so the executor's work and the test's own reads go through;
    `failed` names the calls that failed."""

    def __init__(
        self,
        system: LocalSystem,
        monkeypatch: pytest.MonkeyPatch,
        function: str,
        calls: tuple[str, ...] = CALLS,
        count: int = FAULTS,
        error: str = "InternalServerError",
    ):
        self.function = system.stack.ref(function)
        self.error = error
        self.left = count
        self.failed: list[str] = []
        self._running = threading.local()
        self._lock = threading.Lock()
        invoke = system.lambdas.invoke

        def invoke_watched(name: str, event: Any) -> Any:
            self._running.target = name.rsplit(":", 1)[-1] == self.function
            try:
                return invoke(name, event)
            finally:
                self._running.target = False

        monkeypatch.setattr(system.lambdas, "invoke", invoke_watched)
        for call in calls:
            monkeypatch.setattr(DynamoDBBackend, call, self._faulty(call, getattr(DynamoDBBackend, call)))
        # boto3 waits up to 16 s between its own attempts; the attempts still happen, only their backoff is skipped.
        monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda backoff, context: 0)

    def _faulty(self, call: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def maybe_fail(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            if getattr(self._running, "target", False):
                with self._lock:
                    fail = self.left > 0
                    if fail:
                        self.left -= 1
                        self.failed.append(call)
                if fail:
                    raise TransientError(self.error)
            return real(backend, *args, **kwargs)

        return maybe_fail


def _history(system: LocalSystem, batch_id: str) -> list[dict[str, Any]]:
    arn = system.stack.ref("BatchStateMachine").replace(":stateMachine:", ":execution:") + f":{batch_id}"
    pages = boto3.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def _first_run(system: LocalSystem, batch_id: str, state: str) -> list[str]:
    """The events of the task state's first run, each failed attempt with its error."""
    run: list[str] = []
    inside = False
    for event in _history(system, batch_id):
        if event["type"] == "TaskStateEntered":
            inside = event["stateEnteredEventDetails"]["name"] == state
        elif event["type"] == "TaskStateExited" and inside:
            return run
        elif inside:
            failed = event.get("taskFailedEventDetails")
            run.append(f"TaskFailed: {failed['error']}" if failed else event["type"])
    return run


def _create(console: Console, count: int, **fields: Any) -> str:
    lines = [chat_line(f"t{n}", f"transient {n}") for n in range(count)]
    answer = console.create({"endpoint": CHAT, "requests": lines, **fields})
    assert answer.status == 201, answer.body
    return answer.json()["id"]


def _awaiting(system: LocalSystem, batch_id: str) -> bool:
    return any(event["type"] == "TaskSubmitted" for event in _history(system, batch_id))


@pytest.mark.parametrize(
    ("function", "state"),
    [
        ("PrepareFunction", "Prepare"),
        ("CheckFunction", "Check"),
        ("AwaitLinesFunction", "AwaitLines"),
        ("FinalizeFunction", "Finalize"),
    ],
)
def test_a_transient_dynamodb_error_in_a_task_is_retried_and_every_line_completes(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch, function: str, state: str
) -> None:
    faults = DynamoDBFaults(system, monkeypatch, function)
    batch_id = _create(console, 4)
    # Nothing is delivered until the workflow awaits the lines, so Prepare, Check and AwaitLines all run before
    # any line finishes.
    wait_for(lambda: _awaiting(system, batch_id), timeout=30)

    batch = console.wait(batch_id)

    assert len(faults.failed) == FAULTS
    assert _first_run(system, batch_id, state)[:5] == FAILED_ONCE
    assert batch["status"] == "completed" and batch["error_message"] is None
    assert batch["request_counts"] == {"total": 4, "completed": 4, "failed": 0, "cancelled": 0, "expired": 0}
    assert [line["custom_id"] for line in console.result_lines(batch_id)] == ["t0", "t1", "t2", "t3"]


def test_a_transient_dynamodb_error_while_expiring_still_expires_every_unfinished_line(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = DynamoDBFaults(system, monkeypatch, "ExpireFunction")

    batch_id = _create(console, 4, completion_window="3s")
    batch = console.wait(batch_id, deliver=False, timeout=30)

    assert len(faults.failed) == FAULTS
    assert _first_run(system, batch_id, "Expire")[:5] == FAILED_ONCE
    assert batch["status"] == "expired" and batch["error_message"] is None
    assert batch["request_counts"] == {"total": 4, "completed": 0, "failed": 0, "cancelled": 0, "expired": 4}


def test_a_transient_dynamodb_error_while_rejecting_an_input_still_fails_it_naming_the_line(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {"custom_id": "a", "method": "POST", "url": CHAT, "body": chat_line("", "x")["body"]}
    data = base64.b64encode(f"{json.dumps(good)}\n{{not json\n".encode()).decode()
    stored = console.call("POST", "/api/client/v1/files/buckets/in/objects", {"fileName": "bad.jsonl", "data": data})
    faults = DynamoDBFaults(system, monkeypatch, "MarkFailedFunction")

    created = console.create(
        {"endpoint": CHAT, "input_file": {"bucket_key": "in", "object_key": stored.json()["file"]["key"]}}
    )
    batch = console.wait(created.json()["id"])

    message = "line 2: is not valid JSON (Expecting property name enclosed in double quotes)"
    assert len(faults.failed) == FAULTS
    assert _first_run(system, batch["id"], "RejectInput")[:5] == FAILED_ONCE
    assert batch["status"] == "failed" and batch["error_message"] == message
    assert [(error["code"], error["line"], error["message"]) for error in batch["errors"]] == [
        ("invalid_json_line", 2, message)
    ]


@pytest.mark.parametrize("error", TRANSIENT)
def test_a_failed_read_fails_the_check_task_with_a_storage_error_that_the_workflow_retries(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    faults = DynamoDBFaults(system, monkeypatch, "CheckFunction", calls=READS, error=error)

    batch_id = _create(console, 4)
    batch = console.wait(batch_id)

    # A raw ClientError would have failed the task under the error's own name, which no retrier names: MarkFailed.
    assert faults.failed == ["get_item"] * FAULTS
    assert _first_run(system, batch_id, "Check") == [*FAILED_ONCE, "TaskSucceeded"]
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 4, "completed": 4, "failed": 0, "cancelled": 0, "expired": 0}
