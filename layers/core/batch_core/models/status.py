"""The status rules: which status a batch or a work unit may move to from which, in one table each.

Every conditional update takes its allowed prior statuses from here, so a rule changes in one place."""

from enum import StrEnum


class BatchStatus(StrEnum):
    VALIDATING = "validating"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


_B = BatchStatus

TERMINAL = frozenset({_B.COMPLETED, _B.FAILED, _B.EXPIRED, _B.CANCELLED})
# A batch whose workflow still runs: it may take a task token, and a failure ends it.
ACTIVE = frozenset({_B.VALIDATING, _B.IN_PROGRESS, _B.CANCELLING})
# Lines start only while the batch is neither ending nor ended.
RUNNABLE = frozenset({_B.VALIDATING, _B.IN_PROGRESS})
# Prepare plans a batch's units before it starts, and also when it was cancelled before it could start.
PREPARABLE = frozenset({_B.VALIDATING, _B.CANCELLING})
# Finalize writes the files of a batch in one of these, whatever its outcome.
FINALIZABLE = frozenset({_B.IN_PROGRESS, _B.FINALIZING, _B.CANCELLING})

# To each status, the statuses a batch may reach it from.
BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    _B.IN_PROGRESS: frozenset({_B.VALIDATING}),
    _B.CANCELLING: RUNNABLE,
    _B.FINALIZING: frozenset({_B.IN_PROGRESS}),
    _B.COMPLETED: FINALIZABLE,
    _B.CANCELLED: FINALIZABLE,
    _B.EXPIRED: FINALIZABLE,
    _B.FAILED: ACTIVE | {_B.FINALIZING},
}


def batch_sources(status: BatchStatus) -> frozenset[BatchStatus]:
    """The statuses a batch may move to `status` from."""
    return BATCH_TRANSITIONS[status]


class UnitState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


_U = UnitState

# To each state, the states a unit may reach it from. An attempt claims a unit (running; again when its
# lease ran out or when the dead-letter path forces it) and ends it pending (lines left) or done.
UNIT_TRANSITIONS: dict[UnitState, frozenset[UnitState]] = {
    _U.RUNNING: frozenset({_U.PENDING, _U.RUNNING}),
    _U.PENDING: frozenset({_U.RUNNING}),
    _U.DONE: frozenset({_U.RUNNING}),
    _U.CANCELLED: frozenset({_U.PENDING}),
    _U.EXPIRED: frozenset({_U.PENDING, _U.RUNNING}),
}


def unit_sources(state: UnitState) -> frozenset[UnitState]:
    """The states a unit may move to `state` from."""
    return UNIT_TRANSITIONS[state]


# How a unit's lines reach the batch's counters: a finished line by its outcome, and every unfinished
# line of a unit that is closed by the state it is closed to. The counters sum to the batch's total
# once every unit is done, cancelled or expired.
LINE_COUNTERS = {"succeeded": "completed", "failed": "failed"}
CLOSED_UNIT_COUNTERS = {_U.CANCELLED: "cancelled", _U.EXPIRED: "expired"}
