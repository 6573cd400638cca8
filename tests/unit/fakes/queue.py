"""The work queue and the workflow as recorders: what was sent, requeued, delayed, started and signalled."""

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from batch_core.dal.queue import sqs_delay
from batch_core.errors import StorageError
from batch_core.models.work_unit import WorkUnit

_MAX_VISIBILITY_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Requeued:
    unit: WorkUnit
    delay_seconds: int


class FakeWorkQueue:
    """Same methods as WorkQueue; the message a requeue sends (a long wait carries its due time) and its
    SQS delay are the real store's."""

    def __init__(self) -> None:
        self.sent: list[WorkUnit] = []
        self.requeued: list[Requeued] = []
        self.delayed: dict[str, int] = {}
        self._lock = threading.Lock()

    def send(self, units: Iterable[WorkUnit]) -> int:
        """`sent` stays in batch and unit order, whatever threads sent them: a standard queue promises no order,
        and a test picks a unit's message by its place."""
        count = 0
        for unit in units:
            with self._lock:
                bisect.insort(self.sent, unit.model_copy(deep=True), key=lambda sent: (sent.batch_id, sent.unit))
            count += 1
        return count

    def requeue(self, unit: WorkUnit, delay: float) -> None:
        delay_seconds, due = sqs_delay(delay)
        message = unit.model_copy(update={"not_before": due})
        with self._lock:
            self.requeued.append(Requeued(message, delay_seconds))

    def delay(self, receipt_handle: str, seconds: float) -> None:
        with self._lock:
            self.delayed[receipt_handle] = max(1, min(_MAX_VISIBILITY_SECONDS, round(seconds)))


@dataclass(frozen=True)
class Signal:
    kind: str  # "done" or "cancelled"
    task_token: str


class FakeWorkflow:
    """Same methods as Workflow. An execution is named after its batch, so starting one twice with the same
    input is one execution; a task token answers once, later signals to it are not delivered (False).
    `unavailable` makes every start fail as Step Functions failing to answer would."""

    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.signals: list[Signal] = []
        self.unavailable = False
        self._lock = threading.Lock()

    def start(self, batch_id: str, payload: dict[str, Any]) -> None:
        with self._lock:
            if self.unavailable or self.started.get(batch_id, payload) != payload:
                raise StorageError(f"could not start the workflow of batch {batch_id}")
            self.started[batch_id] = payload

    def signal_done(self, task_token: str) -> bool:
        return self._signal(Signal("done", task_token))

    def signal_cancelled(self, task_token: str) -> bool:
        return self._signal(Signal("cancelled", task_token))

    def _signal(self, signal: Signal) -> bool:
        with self._lock:
            if any(sent.task_token == signal.task_token for sent in self.signals):
                return False
            self.signals.append(signal)
            return True


class FakeBatchEvents:
    """The bus: `put` keeps each event's detail, in order."""

    def __init__(self) -> None:
        self.put_details: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put(self, detail: dict[str, Any]) -> None:
        with self._lock:
            self.put_details.append(detail)
