import json
from pathlib import Path
from typing import Any

from batch_core.workflow.watchdog import EVENTS_PER_RETRY, OUTSIDE_CYCLES_EVENTS, TASK_RETRIES

STATES: dict[str, dict[str, Any]] = json.loads((Path(__file__).parents[2] / "statemachine/batch.asl.json").read_text())[
    "States"
]
TASKS = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
TRANSIENT = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "StorageError",
    ],
    "IntervalSeconds": 1,
    "MaxAttempts": TASK_RETRIES,
    "BackoffRate": 2,
}
# Per state with no retry, as tests/integration/test_workflow_endings.py measures them on the real ASL.
EVENTS = {"Task": 5, "Choice": 2, "Succeed": 2, "Fail": 1}
EXECUTION_EVENTS = 2  # started, and succeeded or failed


def test_every_task_retries_a_transient_storage_or_lambda_error_first() -> None:
    assert set(TASKS) == {"Prepare", "Check", "AwaitLines", "Expire", "Finalize", "RejectInput", "MarkFailed"}
    assert {name: state["Retry"][0] for name, state in TASKS.items()} == {name: TRANSIENT for name in TASKS}


def test_any_other_error_of_a_task_before_the_end_fails_the_batch_through_mark_failed() -> None:
    ends = {"RejectInput", "MarkFailed"}
    last_catches = {name: state["Catch"][-1] for name, state in TASKS.items() if name not in ends}

    assert last_catches == {
        name: {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "MarkFailed"} for name in last_catches
    }
    assert {name: TASKS[name]["Retry"][1:] for name in ends} == {
        name: [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}]
        for name in ends
    }


def test_every_state_once_with_every_retry_fits_the_history_kept_outside_the_watchdog_cycles() -> None:
    def events(state: dict[str, Any]) -> int:
        waits = state.get("Resource", "").endswith(".waitForTaskToken")  # one more: the task was submitted
        retries = sum(retrier["MaxAttempts"] for retrier in state.get("Retry", []))
        return EVENTS[state["Type"]] + waits + retries * EVENTS_PER_RETRY

    assert EXECUTION_EVENTS + sum(events(state) for state in STATES.values()) <= OUTSIDE_CYCLES_EVENTS
