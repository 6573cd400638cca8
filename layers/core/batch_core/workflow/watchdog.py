"""How long the workflow waits for lines before it looks again, within the execution's history budget."""

import math

# Step Functions ends an execution that reaches 25,000 history events, outside every Catch, so the
# watchdog cycles (Check, Route, AwaitLines) over the longest window must fit with everything else.
# A cycle is 13 events (Check: entered, scheduled, started, succeeded, exited; Route: entered, exited;
# AwaitLines: entered, scheduled, started, submitted, timed out, exited), measured on the real ASL by
# tests/integration/test_workflow_endings.py; EVENTS_PER_CYCLE keeps one spare. A retried task adds 3 events
# (failed, scheduled, started), measured by tests/integration/test_transient_errors.py. Every task retries a
# transient error (StorageError, Lambda's own) TASK_RETRIES times: the core's boto3 clients already retried
# each call 5 times, so these retries, 1 s doubling to 32 s, outlast a passing AWS fault.
# tests/unit/test_workflow_retries.py holds statemachine/batch.asl.json to these figures.
HISTORY_LIMIT = 25_000
EVENTS_PER_CYCLE = 14
EVENTS_PER_RETRY = 3
TASK_RETRIES = 6
OUTSIDE_CYCLES_EVENTS = 210  # every state once, each task with every retry the ASL allows it
RETRIED_CYCLES = 20  # cycles whose Check and AwaitLines both spend every retry
RETRY_EVENTS = RETRIED_CYCLES * 2 * TASK_RETRIES * EVENTS_PER_RETRY
EARLY_WAKES = 10  # cycles cut short by the finisher, a cancel, or a signal answered at once (each at most twice)
MAX_CYCLES = (HISTORY_LIMIT - OUTSIDE_CYCLES_EVENTS - RETRY_EVENTS) // EVENTS_PER_CYCLE - EARLY_WAKES - 1


def watchdog_wait(window_seconds: int, left_seconds: int, watchdog_seconds: int) -> int:
    """The watchdog period, stretched so the cycles over the whole window fit the execution's history;
    never past the window's end."""
    wait = max(watchdog_seconds, math.ceil(window_seconds / MAX_CYCLES))
    return max(1, min(wait, left_seconds))
