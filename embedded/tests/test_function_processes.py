import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedded import function_processes
from embedded.function_processes import FunctionProcesses
from embedded.lambdas import HandlerError
from embedded.launcher import LaunchedStack
from embedded.template import FunctionSpec, Stack
from embedded.tests.conftest import CONSOLE, KEY, STACK_ENVIRONMENT, chat_line
from tests.waiting import wait_for


def test_prepare_and_finalize_run_in_processes_of_their_own_whose_aws_calls_are_counted_with_the_stacks(
    tmp_path: Path,
) -> None:
    counted = tmp_path / "requests.json"
    running = LaunchedStack({**STACK_ENVIRONMENT, "AWS_REQUEST_COUNTS": str(counted)})
    try:
        lines = [chat_line(f"p{n}", f"line {n}") for n in range(3)]
        created = running.request("POST", CONSOLE, KEY, body={"endpoint": "/v1/chat/completions", "requests": lines})
        batch = running.wait_for_batch(created.json()["id"], KEY)
        in_children = _calls_once_finalized(tmp_path)
    finally:
        assert running.stop() == 0

    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 3
    # Only prepare stores units and only finalize joins the output, both in other processes; the stack's file
    # now holds their calls too.
    assert in_children["dynamodb:BatchWriteItem"] == 1 and in_children["s3:CompleteMultipartUpload"] == 1
    calls = json.loads(counted.read_text())["calls"]
    assert calls["dynamodb:BatchWriteItem"] == 1 and calls["s3:CompleteMultipartUpload"] == 1
    assert calls["sqs:ReceiveMessage"] > 0
    assert list(tmp_path.glob("requests.json.*")) == []


def _calls_once_finalized(folder: Path) -> Counter[str]:
    """The calls the function processes counted, once finalize's are among them: a process writes its counts
    after its function returns, a little after the batch shows its end."""

    def counted() -> Counter[str] | None:
        calls = Counter[str]()
        for counts in folder.glob("requests.json.*"):
            calls.update(json.loads(counts.read_text())["calls"])
        return calls if calls["s3:CompleteMultipartUpload"] else None

    return wait_for(counted, 10)


HANDLERS = """
import os
import time


def answer(event, context):
    return {"pid": os.getpid(), "event": event, "left_ms": context.get_remaining_time_in_millis()}


def fail(event, context):
    raise ValueError(f"line {event['line']}: body is required")


def hang(event, context):
    time.sleep(60)


def crash(event, context):
    os._exit(3)
"""

FUNCTIONS = ("answer", "fail", "hang", "crash")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[FunctionProcesses]:
    (tmp_path / "app.py").write_text(HANDLERS)
    functions = {
        name: FunctionSpec(name, name, tmp_path, f"app.{name}", {}, timeout_seconds=0.2 if name == "hang" else 30)
        for name in FUNCTIONS
    }
    physical = {
        name: {"Ref": name, "Arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}"} for name in functions
    }
    running = FunctionProcesses(Stack("local", "us-east-1", {}, {}, physical, functions), FUNCTIONS)
    yield running
    running.close()


def test_a_function_in_its_own_process_answers_like_lambda_and_reuses_the_warm_process(
    processes: FunctionProcesses,
) -> None:
    first = processes.invoke("answer", {"n": 1})
    second = processes.invoke("answer", {"n": 2})

    assert first["pid"] != os.getpid() and first["pid"] == second["pid"]
    assert (first["event"], second["event"]) == ({"n": 1}, {"n": 2})
    assert 0 < first["left_ms"] <= 30_000


def test_a_function_that_raises_in_its_own_process_fails_with_lambdas_error_payload(
    processes: FunctionProcesses,
) -> None:
    with pytest.raises(HandlerError) as failed:
        processes.invoke("fail", {"line": 3})

    assert failed.value.payload["errorType"] == "ValueError"
    assert failed.value.payload["errorMessage"] == "line 3: body is required"
    assert processes.invoke("answer", {})["event"] == {}


def test_a_function_that_outlives_its_timeout_fails_and_its_process_is_replaced(
    processes: FunctionProcesses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(function_processes, "_TIMEOUT_MARGIN_SECONDS", 0.3)

    with pytest.raises(HandlerError) as failed:
        processes.invoke("hang", {})
    answered = [processes.invoke("answer", {"n": n}) for n in range(3)]

    assert failed.value.payload["errorType"] == "TimeoutError"
    assert [answer["event"] for answer in answered] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_function_whose_process_exits_mid_invocation_fails_like_lambda_and_its_process_is_replaced(
    processes: FunctionProcesses,
) -> None:
    with pytest.raises(HandlerError) as failed:
        processes.invoke("crash", {})
    answered = [processes.invoke("answer", {"n": n}) for n in range(3)]

    assert failed.value.payload["errorType"] == "Runtime.ExitError"
    assert failed.value.payload["errorMessage"] == "crash: runtime exited with code 3"
    assert [answer["event"] for answer in answered] == [{"n": 0}, {"n": 1}, {"n": 2}]
