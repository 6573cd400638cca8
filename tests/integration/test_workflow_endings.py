import itertools
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from batch_core.dal.batches_db import BatchStore
from batch_core.dal.stores import Stores
from batch_core.errors import StorageError
from batch_core.models.status import TERMINAL
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line
from tests.waiting import wait_for

CHAT = "/v1/chat/completions"
BUCKETS = "/api/client/v1/files/buckets"


def execution_status(system: LocalSystem, batch_id: str, timeout: float = 20) -> str:
    """The batch's execution status once it has stopped running."""
    sfn = boto3.client("stepfunctions")
    arn = system.stack.ref("BatchStateMachine").replace(":stateMachine:", ":execution:") + f":{batch_id}"

    def stopped() -> str | None:
        status = sfn.describe_execution(executionArn=arn)["status"]
        return None if status == "RUNNING" else status

    return wait_for(stopped, timeout)


def bucket_keys(console: Console, bucket: str) -> list[str]:
    return [file["key"] for file in console.call("GET", f"{BUCKETS}/{bucket}/objects").json()["files"]]


def test_a_finalize_retried_after_writing_leaves_one_output_object_and_the_execution_succeeds(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_transition = BatchStore.transition
    failed_once: list[str] = []

    def fail_the_first_ending(self: BatchStore, batch_id: str, **arguments: Any) -> Any:
        if arguments["to"] in TERMINAL and not failed_once:
            failed_once.append(batch_id)
            raise StorageError("the table did not answer")
        return real_transition(self, batch_id, **arguments)

    monkeypatch.setattr(BatchStore, "transition", fail_the_first_ending)
    lines = [chat_line(f"o{n}", f"output {n}") for n in range(4)]

    created = console.create({"endpoint": CHAT, "requests": lines, "output_bucket_key": "outputs"}).json()
    batch = console.wait(created["id"])

    assert failed_once == [batch["id"]]
    assert batch["status"] == "completed"
    assert bucket_keys(console, "outputs") == [f"{batch['id']}_output.jsonl"]
    assert batch["output_file"] == {"bucket_key": "outputs", "object_key": f"{batch['id']}_output.jsonl"}
    written = console.call("GET", f"{BUCKETS}/outputs/objects/{batch['id']}_output.jsonl/download").body
    assert written.decode().count("\n") == 4
    assert execution_status(system, batch["id"]) == "SUCCEEDED"


def test_a_duplicate_finalize_that_ends_the_batch_first_leaves_the_execution_succeeded(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_core import finalize  # after the stack set the environment its metrics read

    real_store = finalize.store_batch_output
    duplicates: list[str] = []
    nested_ended = threading.Event()

    def finalize_again_meanwhile(
        stores: Stores, tenant_id: str, bucket: str, batch_id: str, source_key: str, size: int
    ) -> str:
        if not duplicates:
            duplicates.append("running")
            try:
                duplicates[0] = finalize.finalize_batch(system.stores, system.settings, batch_id, "completed")
            except Exception as error:  # kept so a failure names what the nested finalize raised
                duplicates[0] = repr(error)
                raise
            finally:
                nested_ended.set()
        return real_store(stores, tenant_id, bucket, batch_id, source_key, size)

    monkeypatch.setattr(finalize, "store_batch_output", finalize_again_meanwhile)
    lines = [chat_line(f"t{n}", f"twice {n}") for n in range(4)]

    created = console.create({"endpoint": CHAT, "requests": lines, "output_bucket_key": "outputs"}).json()
    batch = console.wait(created["id"])

    # The nested finalize ends the batch a moment before it returns.
    assert nested_ended.wait(30)
    assert duplicates == ["completed"]
    assert execution_status(system, batch["id"]) == "SUCCEEDED"
    assert console.get(batch["id"]).json()["status"] == "completed"
    assert bucket_keys(console, "outputs") == [f"{batch['id']}_output.jsonl"]


def test_mark_failed_on_a_batch_that_already_ended_answers_its_status_and_changes_nothing(
    console: Console, system: LocalSystem
) -> None:
    batch = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("a", "done")]}).json()["id"])

    answer = system.lambdas.invoke(
        system.stack.ref("MarkFailedFunction"),
        {"batch_id": batch["id"], "failure": {"Error": "Lambda.Unknown", "Cause": "late"}},
    )

    assert answer == {"status": "completed"}
    assert console.get(batch["id"]).json() == batch


def _history(system: LocalSystem, batch_id: str) -> list[dict[str, Any]]:
    arn = system.stack.ref("BatchStateMachine").replace(":stateMachine:", ":execution:") + f":{batch_id}"
    pages = boto3.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def _cycles_over(window_seconds: int, watchdog_seconds: int) -> int:
    """How many times the workflow awaits over a whole window that nothing ends early."""
    from batch_core.workflow.watchdog import watchdog_wait

    elapsed, cycles = 0, 0
    while elapsed < window_seconds:
        elapsed += watchdog_wait(window_seconds, window_seconds - elapsed, watchdog_seconds)
        cycles += 1
    return cycles


def test_the_watchdog_loop_fits_the_execution_history_for_the_longest_window(
    console: Console, system: LocalSystem
) -> None:
    from batch_core.models.batch import MAX_WINDOW_SECONDS
    from batch_core.workflow import watchdog

    batch_id = console.create(
        {"endpoint": CHAT, "requests": [chat_line("idle", "x")], "completion_window": "12s"}
    ).json()
    batch = console.wait(batch_id["id"], deliver=False, timeout=30)
    assert batch["status"] == "expired" and execution_status(system, batch["id"]) == "SUCCEEDED"

    events = _history(system, batch["id"])
    checks = [
        n
        for n, event in enumerate(events)
        if event["type"] == "TaskStateEntered" and event["stateEnteredEventDetails"]["name"] == "Check"
    ]
    cycles = {later - earlier for earlier, later in itertools.pairwise(checks)}
    assert len(checks) >= 4 and len(cycles) == 1
    [per_cycle] = cycles
    outside = len(events) - per_cycle * (len(checks) - 1)
    assert per_cycle <= watchdog.EVENTS_PER_CYCLE
    assert outside <= watchdog.OUTSIDE_CYCLES_EVENTS
    minimum_watchdog = int(system.stack.template["Parameters"]["WatchdogSeconds"]["MinValue"])
    worst = _cycles_over(MAX_WINDOW_SECONDS, minimum_watchdog) + watchdog.EARLY_WAKES
    assert outside + worst * per_cycle + watchdog.RETRY_EVENTS <= watchdog.HISTORY_LIMIT


def test_an_execution_stopped_outside_the_workflow_ends_its_batch_failed(console: Console, system: LocalSystem) -> None:
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line("stuck", "x")]}).json()["id"]
    # Stopped while it awaits its lines, as an operator would find it (moto reports a stop mid-task as FAILED).
    wait_for(lambda: any(event["type"] == "TaskSubmitted" for event in _history(system, batch_id)), timeout=10)
    arn = system.stack.ref("BatchStateMachine").replace(":stateMachine:", ":execution:") + f":{batch_id}"
    boto3.client("stepfunctions").stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")

    batch = console.wait(batch_id)

    assert batch["status"] == "failed"
    assert batch["error_message"] == "the batch's workflow ended aborted; no further lines will run"
    assert batch["failed_at"] is not None


def test_an_execution_event_for_no_known_batch_ends_cleanly_so_it_is_not_retried(system: LocalSystem) -> None:
    ended = json.loads((Path(__file__).parents[2] / "events/execution_ended.json").read_text())
    ended["detail"]["name"] = "batch_never_created"

    assert system.lambdas.invoke(system.stack.ref("ExecutionEndedFunction"), ended) == {"status": "missing"}
