"""Prepare: validate the stored input as a stream, cut it into work units, store and queue them."""

import time
from concurrent.futures import ThreadPoolExecutor

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput, InvalidTransition
from batch_core.files import register_input_file
from batch_core.inputs import plan_units
from batch_core.lifecycle import transition
from batch_core.models.assembly import block_units
from batch_core.models.batch import Batch
from batch_core.models.status import PREPARABLE, BatchStatus
from batch_core.models.work_unit import UnitRecord, WorkUnit
from batch_core.observability import logger
from batch_core.quotas import reserve
from batch_core.settings import Settings
from batch_core.validation import LineValidator
from batch_core.workflow.loading import load_batch

_STORE_CONCURRENCY = 8


def prepare_batch(stores: Stores, settings: Settings, batch_id: str) -> None:
    """Raises InvalidInput (naming line and field) before anything is queued when the input is bad.

    Safe to run again: existing units keep their progress and duplicate messages change nothing.
    """
    batch = load_batch(stores, batch_id)
    if batch.status not in PREPARABLE:
        return
    copy_source(stores, batch)
    if batch.input_file is not None:
        _register_bucket_input(stores, settings, batch)
    validator = LineValidator.of(batch, settings)
    units = list(plan_units(stores, batch, validator, settings.work_unit_lines))
    if batch.lines_from_file:
        # Raises QuotaExceeded, an InvalidInput, before anything is queued: the batch fails naming the quota.
        reserve(
            stores,
            settings,
            batch.tenant_id,
            batch.id,
            lines=validator.count,
            tokens=validator.tokens,
            until=batch.expires_at,
        )
    batch = stores.batches.plan(
        batch_id,
        total=validator.count,
        units=len(units),
        unit_lines=settings.work_unit_lines,
        block_units=block_units(settings.work_unit_lines),
    )
    ttl = settings.batch_ttl(batch.expires_at)

    def store(unit: WorkUnit) -> WorkUnit:
        stores.units.put_new(UnitRecord(**unit.model_dump()), ttl)
        return unit

    # Units are stored side by side and queued ten at a time as they are stored, so the first lines
    # start while later units are still being written.
    with ThreadPoolExecutor(max_workers=_STORE_CONCURRENCY) as pool:
        stored = pool.map(store, units)
        if batch.status == BatchStatus.VALIDATING:
            stores.queue.send(stored)
        else:
            list(stored)
    try:
        changes = {"started_at": int(time.time()), "model": validator.model}
        transition(stores, batch_id, to=BatchStatus.IN_PROGRESS, changes=changes)
    except InvalidTransition:
        logger.info("batch cancelled while preparing", extra={"batch_id": batch_id})
    logger.info("batch prepared", extra={"batch_id": batch_id, "lines": validator.count, "units": len(units)})


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
