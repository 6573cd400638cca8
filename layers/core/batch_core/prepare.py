"""Prepare: validate the stored input as a stream and cut it into work units, storing them while it reads; queue
them once the whole input has proved valid. The first two are queued as soon as they are stored: their executors
start while the rest is validated, and hold them until the batch is planned (executor.py), so no line runs
before the whole input has proved valid. An input its upload's check already proved valid (file_checks.py) is
planned first and then cut without being read again, each unit queued as soon as it is stored."""

import math
import time
from array import array
from collections.abc import Callable, Iterator

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput, InvalidTransition
from batch_core.files import register_input_file
from batch_core.inputs import plan_units
from batch_core.lifecycle import transition
from batch_core.models.assembly import block_units
from batch_core.models.batch import Batch
from batch_core.models.file import FileCheck
from batch_core.models.status import PREPARABLE, BatchStatus
from batch_core.models.work_unit import WorkUnit
from batch_core.observability import logger
from batch_core.parallel import each_side_by_side, in_groups
from batch_core.quotas import reserve
from batch_core.settings import Settings
from batch_core.validation import CheckedLines, LineValidator
from batch_core.workflow.loading import load_batch

_STORE_WORKERS = 4
_SEND_WORKERS = 8
# DynamoDB's BatchWriteItem takes 25 items, SQS's SendMessageBatch 10 messages.
_UNITS_PER_WRITE = 25
_UNITS_PER_SEND = 10
# Units queued before the input has proved valid. Their executors hold them meanwhile, so they are few: a long
# validation must not keep every executor from other batches' units.
_EARLY_UNITS = 2


def prepare_batch(stores: Stores, settings: Settings, batch_id: str) -> None:
    """Raises InvalidInput (naming line and field) before any line can run when the input is bad.

    Safe to run again: once a run has planned the units, those stored keep their progress, the missing are stored,
    and all are queued again; duplicate messages change nothing. Memory stays flat: a unit is kept as its two byte
    offsets.
    """
    batch = load_batch(stores, batch_id)
    if batch.status not in PREPARABLE:
        return
    copy_source(stores, batch)
    if batch.input_file is not None:
        _register_bucket_input(stores, settings, batch)
    unit_lines = batch.unit_lines or settings.work_unit_lines
    validator = LineValidator.of(batch, settings)
    check = _admitted_check(stores, batch, validator)
    if check is None:
        _validate_then_plan(stores, settings, batch, validator, unit_lines)
        lines, model = validator.count, validator.model
    else:
        _plan_then_cut(stores, settings, batch, check, unit_lines)
        lines, model = check.lines, check.model
    try:
        changes = {"started_at": int(time.time()), "model": model}
        transition(stores, batch_id, to=BatchStatus.IN_PROGRESS, changes=changes)
    except InvalidTransition:
        logger.info("batch cancelled while preparing", extra={"batch_id": batch_id})
    logger.info("batch prepared", extra={"batch_id": batch_id, "lines": lines, "checked": check is not None})


def _admitted_check(stores: Stores, batch: Batch, validator: LineValidator) -> FileCheck | None:
    """The check of the uploaded file the batch's input is a version of, when it proved that version's lines valid
    under the batch's line rules."""
    stored = stores.files.get(batch.input_file_id) if batch.input_file_id and batch.source_etag else None
    check = stored.check if stored else None
    if check is None or check.etag != batch.source_etag or not validator.admits(check):
        return None
    return check


def _validate_then_plan(
    stores: Stores, settings: Settings, batch: Batch, validator: LineValidator, unit_lines: int
) -> None:
    """Validates the input while storing its units, the first two queued at once; once it proved valid, plans the
    batch and queues the rest."""
    offsets = array("q")
    with validator:
        units = _noting(plan_units(stores, batch, validator, unit_lines), offsets)
        queued = _store(stores, settings, batch, units)
    _reserve(stores, settings, batch, lines=validator.count, tokens=validator.tokens)
    planned = _plan(stores, batch, total=validator.count, units=len(offsets) // 2, unit_lines=unit_lines)
    if planned.status == BatchStatus.VALIDATING:
        messages = in_groups(_messages(planned, offsets, queued), _UNITS_PER_SEND)
        each_side_by_side(stores.queue.send, messages, workers=_SEND_WORKERS)


def _plan_then_cut(stores: Stores, settings: Settings, batch: Batch, check: FileCheck, unit_lines: int) -> None:
    """Plans the batch from its input's check, then cuts its units, each queued as soon as it is stored: no unit
    waits for the rest."""
    _reserve(stores, settings, batch, lines=check.lines, tokens=check.tokens)
    units = math.ceil(check.lines / unit_lines)
    planned = _plan(stores, batch, total=check.lines, units=units, unit_lines=unit_lines)
    store = _unit_store(stores, settings, batch)

    def store_and_queue(group: list[WorkUnit]) -> None:
        store(group)
        if planned.status == BatchStatus.VALIDATING:
            stores.queue.send(group)

    groups = in_groups(plan_units(stores, batch, CheckedLines(), unit_lines), _UNITS_PER_WRITE)
    each_side_by_side(store_and_queue, groups, workers=_STORE_WORKERS)


def _reserve(stores: Stores, settings: Settings, batch: Batch, *, lines: int, tokens: int) -> None:
    """Holds the quota a file's lines take. Raises QuotaExceeded, an InvalidInput, before any line can run: the batch
    fails naming the quota."""
    if batch.lines_from_file:
        reserve(stores, settings, batch.tenant_id, batch.id, lines=lines, tokens=tokens, until=batch.expires_at)


def _plan(stores: Stores, batch: Batch, *, total: int, units: int, unit_lines: int) -> Batch:
    block = batch.block_units or block_units(unit_lines)
    return stores.batches.plan(batch.id, total=total, units=units, unit_lines=unit_lines, block_units=block)


def _unit_store(stores: Stores, settings: Settings, batch: Batch) -> Callable[[list[WorkUnit]], None]:
    """How prepare stores a group of units: as new, or, once a run planned the batch, only those still missing, as
    that run may have queued the rest."""
    ttl = settings.batch_ttl(batch.expires_at)
    put = stores.units.put_missing if batch.units else stores.units.put_all
    return lambda group: put(group, ttl)


def _noting(units: Iterator[WorkUnit], offsets: "array[int]") -> Iterator[WorkUnit]:
    """The units, each noted as its input's byte range in `offsets` on its way."""
    for unit in units:
        offsets.extend((unit.byte_start, unit.byte_end))
        yield unit


def _store(stores: Stores, settings: Settings, batch: Batch, units: Iterator[WorkUnit]) -> int:
    """Stores the units as validation reaches them, 25 to a request, on a few threads; returns how many of the
    first were queued once stored. A unit is stored before its message exists, and a run again stores only the
    missing, so no attempt can meet a unit it overwrites."""
    store = _unit_store(stores, settings, batch)
    groups = in_groups(units, _UNITS_PER_WRITE)
    first = next(groups, [])
    store(first)
    # A first group that is not full holds every unit: the input is already valid, and queueing waits for the plan.
    more = len(first) == _UNITS_PER_WRITE
    early = first[:_EARLY_UNITS] if more and batch.status == BatchStatus.VALIDATING and not batch.units else []
    if early:
        stores.queue.send(early)
    each_side_by_side(store, groups, workers=_STORE_WORKERS)
    return len(early)


def _messages(batch: Batch, offsets: "array[int]", queued: int) -> Iterator[WorkUnit]:
    """The planned batch's units after the first `queued` as messages: each `unit_lines` lines but the last, over
    its noted byte range."""
    total = batch.request_counts.total
    for unit in range(queued, batch.units):
        first = unit * batch.unit_lines
        yield WorkUnit(
            batch_id=batch.id,
            tenant_id=batch.tenant_id,
            unit=unit,
            first=first,
            count=min(batch.unit_lines, total - first),
            byte_start=offsets[2 * unit],
            byte_end=offsets[2 * unit + 1],
        )


def copy_source(stores: Stores, batch: Batch) -> None:
    """Copies the version of the file the batch was created from into the batch's own input, once;
    from then on the file may change or be deleted without touching the batch."""
    if not batch.source_key or not batch.source_etag or stores.blobs.head(batch.input_key) is not None:
        return
    if not stores.blobs.copy_version(batch.source_key, batch.source_etag, batch.input_key):
        param, source = _source_name(batch)
        raise InvalidInput(
            f"{param}: {source} changed or was deleted after the batch was created; create the batch again",
            param=param,
        )


def _register_bucket_input(stores: Stores, settings: Settings, batch: Batch) -> None:
    """A batch made from a bucket object shows its input as a file (its `input_file_id`), like any other batch:
    the copy prepare made of that object."""
    copied = stores.blobs.head(batch.input_key)
    if copied is not None:
        register_input_file(stores, settings, batch.tenant_id, batch.id, batch.input_key, copied.size, batch.expires_at)


def _source_name(batch: Batch) -> tuple[str, str]:
    if batch.input_file is not None:
        return "input_file", f"object '{batch.input_file.object_key}' in bucket '{batch.input_file.bucket_key}'"
    return "input_file_id", f"file '{batch.input_file_id}'"
