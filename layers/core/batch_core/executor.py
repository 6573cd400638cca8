"""Running a work unit: claim it, run its unfinished lines against the upstream, save what finished."""

import math
import time
from collections import Counter

from aws_lambda_powertools.metrics import MetricUnit

from batch_core.assembly import assemble_after
from batch_core.attempt import Attempt
from batch_core.dal.stores import Stores
from batch_core.errors import AttemptUnfinished, StorageError
from batch_core.flow.shared import SharedLimiter
from batch_core.inputs import UnitLine, read_unit_lines
from batch_core.models.assembly import BlockChange
from batch_core.models.batch import Batch
from batch_core.models.line import LineError, LineResult
from batch_core.models.status import RUNNABLE, BatchStatus, UnitState
from batch_core.models.usage import Usage
from batch_core.models.work_unit import AttemptRecord, UnitRecord, WorkUnit
from batch_core.observability import logger, metrics
from batch_core.output_lines import output_line, stored_output
from batch_core.settings import Settings
from batch_core.upstream import RetryLater, Throttled, Upstreams
from batch_core.workflow.closing import close_unit
from batch_core.workflow.signals import signal_if_finished

# How long an executor holds a unit of a batch whose input is still being validated, how often it looks, and how
# long the unit then waits in the queue before the next hold.
_HOLD_SECONDS = 10.0
_HOLD_POLL_SECONDS = 0.1
_HOLD_AGAIN_SECONDS = 1.0


def run_work_unit(
    stores: Stores, settings: Settings, message: WorkUnit, upstreams: Upstreams, *, delivery: str, deadline: float
) -> float | None:
    """Runs the unit once, until `deadline` (a `time.monotonic()` instant: the invocation's end); returns the
    seconds to wait before it should run again, or None when it is settled.

    A redundant message finds the unit claimed by another message or done, and changes nothing: the holder
    carries the unit on (its attempt requeues the unit, or its message returns if it crashed). A redelivery of
    the holder's own message, while the lease still runs, waits for the lease as a crashed attempt would.
    """
    batch = _held_until_planned(stores, stores.batches.get(message.batch_id), deadline)
    if batch is not None and _unplanned(batch):
        return _HOLD_AGAIN_SECONDS
    if batch is None or batch.status not in RUNNABLE:
        if batch is not None and batch.status == BatchStatus.CANCELLING and batch.units:
            _cancel_unit(stores, settings, batch, message)
        return None
    if message.not_before is not None and message.not_before > time.time():
        return message.not_before - time.time()
    now = int(time.time())
    unit = stores.units.claim(batch.id, message.unit, now=now, lease_seconds=settings.lease_seconds, holder=delivery)
    if unit is None:
        current = stores.units.get(batch.id, message.unit)
        if current is not None and current.state == UnitState.RUNNING and current.holder in (delivery, None):
            raise AttemptUnfinished(message.unit, max(1, current.lease_until - now))
        return None
    lines = read_unit_lines(stores, batch, unit, skip=unit.finished)
    unreadable = [_unreadable(line, now) for line in lines if line.request is None]
    pending = [(line.index, line.request) for line in lines if line.request is not None]
    attempt = Attempt(settings, batch, unit, upstreams, SharedLimiter(stores.limits), delivery)
    outcomes = attempt.run(pending, deadline - settings.save_margin_seconds)
    results = unreadable + [outcome for outcome in outcomes if isinstance(outcome, LineResult)]
    delays = [outcome for outcome in outcomes if isinstance(outcome, RetryLater)]
    finished = {result.index for result in results}
    retries = {index: count for index, count in unit.retries.items() if index not in finished}
    retries.update({retry.index: unit.retries.get(retry.index, 0) + 1 for retry in delays})
    if not save_attempt(stores, settings, batch, unit, results, retries, waiting=attempt.held, deadline=deadline):
        return None
    _measure(attempt, results, len(delays))
    if unit.waiting and not attempt.held:
        stores.batches.end_wait(batch.id)
    waits = [outcome.delay for outcome in outcomes if isinstance(outcome, RetryLater | Throttled)] + attempt.waits
    if waits:
        # The unit's lines run together: lines that did not start wait with those backing off.
        return max(waits)
    return 0.0 if None in outcomes else None


def _unplanned(batch: Batch) -> bool:
    """Prepare queues a batch's first units while it still validates the rest of the input; it plans the batch
    once the whole input has proved valid."""
    return batch.status == BatchStatus.VALIDATING and not batch.units


def _held_until_planned(stores: Stores, batch: Batch | None, deadline: float) -> Batch | None:
    """The batch once planned (at once if it already is), or as it is when the hold ends: a unit queued early waits
    in its started executor rather than in the queue, so it runs as soon as the input proves valid, and not if it
    does not."""
    until = min(deadline, time.monotonic() + _HOLD_SECONDS)
    while batch is not None and _unplanned(batch) and time.monotonic() + _HOLD_POLL_SECONDS < until:
        time.sleep(_HOLD_POLL_SECONDS)
        batch = stores.batches.get(batch.id)
    return batch


def save_attempt(
    stores: Stores,
    settings: Settings,
    batch: Batch,
    unit: UnitRecord,
    results: list[LineResult],
    retries: dict[int, int],
    *,
    waiting: int = 0,
    deadline: float = math.inf,
) -> bool:
    """Writes the attempt's results as one object, each line already in its final form, then marks those lines
    finished with the counters, once; a unit whose lines have all finished then wakes the workflow if it was the
    last, and its block joins a part once enough around it has finished.

    False when the attempt had lost the unit meanwhile; its object is then an orphan and is never read.
    """
    key = None
    lines = {result.index: output_line(batch, result) for result in results}
    if results:
        key = stores.blobs.attempt_key(batch.tenant_id, batch.id, unit.unit, unit.attempt)
        ordered = sorted(results, key=lambda result: result.index)
        stores.blobs.put(key, b"".join(stored_output(result, lines[result.index]) for result in ordered))
    done = len(unit.finished) + len(results) == unit.count
    succeeded = [result for result in results if result.status == "succeeded"]
    block = BlockChange(
        block=batch.block_of(unit.unit),
        ttl=settings.batch_ttl(batch.expires_at),
        lines={"succeeded": len(succeeded), "failed": len(results) - len(succeeded)},
        units_ended=int(done),
        output_bytes=sum(len(lines[result.index]) for result in succeeded),
        error_bytes=sum(len(lines[result.index]) for result in results if result.status != "succeeded"),
    )
    record = AttemptRecord(
        finished={result.index: result.status for result in results},
        outputs_key=key,
        retries=retries,
        usage=_usage_of(succeeded),
        waiting=waiting,
        block=block,
    )
    if not stores.units.record_attempt(unit, record):
        logger.info("attempt lost its unit", extra={"batch_id": batch.id, "unit": unit.unit, "attempt": unit.attempt})
        return False
    if done:
        signal_if_finished(stores, batch.id)
        try:
            assemble_after(stores, settings, batch, unit.unit, deadline=deadline)
        except StorageError as failed:
            # The attempt is saved: what this did not assemble, a later unit's end or finalize will.
            logger.warning("assembly put off", extra={"batch_id": batch.id, "unit": unit.unit, "error": str(failed)})
    return True


def _measure(attempt: Attempt, results: list[LineResult], retried: int) -> None:
    """The attempt's lines and calls as metrics; no dimension names a tenant or a batch."""
    outcomes = Counter(result.status for result in results)
    usage = _usage_of([result for result in results if result.status == "succeeded"])
    for name, value in (
        ("LinesSucceeded", outcomes["succeeded"]),
        ("LinesFailed", outcomes["failed"]),
        ("LinesRetried", retried),
        ("LinesThrottled", attempt.held),
        ("InputTokens", usage.input_tokens),
        ("OutputTokens", usage.output_tokens),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for seconds in attempt.latencies:
        metrics.add_metric(name="UpstreamLatency", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))


def _usage_of(succeeded: list[LineResult]) -> Usage:
    """The tokens the batch's totals add for these lines."""
    return Usage.summed(result.usage for result in succeeded if result.usage)


def fail_work_unit(stores: Stores, settings: Settings, message: WorkUnit, reason: str) -> bool:
    """A unit that kept failing: its unfinished lines fail with `reason`, so the batch still ends."""
    batch = stores.batches.get(message.batch_id)
    if batch is None or batch.is_terminal:
        return False
    now = int(time.time())
    unit = stores.units.claim(batch.id, message.unit, now=now, lease_seconds=settings.lease_seconds, force=True)
    if unit is None:
        return False
    try:
        lines = read_unit_lines(stores, batch, unit, skip=unit.finished)
        custom_ids = {line.index: line.custom_id for line in lines}
    except StorageError:
        custom_ids = {}
    error = LineError(code="work_unit_failed", message=reason)
    results = [
        LineResult(
            index=index, custom_id=custom_ids.get(index), status="failed", error=error, started_at=now, ended_at=now
        )
        for index in unit.unfinished
    ]
    # The dead-letter function's ten units share 30 s: what their ends would assemble is left to finalize.
    return save_attempt(stores, settings, batch, unit, results, {}, deadline=time.monotonic())


def _unreadable(line: UnitLine, now: int) -> LineResult:
    """A line whose bytes no longer read fails alone; the unit's other lines still run."""
    error = LineError(code="invalid_request", message=str(line.problem))
    return LineResult(
        index=line.index, custom_id=line.custom_id, status="failed", error=error, started_at=now, ended_at=now
    )


def _cancel_unit(stores: Stores, settings: Settings, batch: Batch, message: WorkUnit) -> None:
    """A unit reached after a cancel: its lines are cancelled now rather than at the next watchdog sweep."""
    if close_unit(stores, settings, batch, stores.units.get(batch.id, message.unit), to=UnitState.CANCELLED):
        signal_if_finished(stores, batch.id)
