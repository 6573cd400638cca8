"""Finalize: assemble what is left of the output and error files, join their parts server side, then give the batch
its terminal status."""

import time

from batch_core.assembly import assemble_rest
from batch_core.buckets import store_batch_output
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition
from batch_core.files import BatchFile, register_batch_files
from batch_core.lifecycle import transition
from batch_core.models.assembly import Stream
from batch_core.models.batch import Batch
from batch_core.models.status import BatchStatus
from batch_core.settings import Settings
from batch_core.workflow.loading import load_batch

_TIMESTAMP = {
    BatchStatus.COMPLETED: "completed_at",
    BatchStatus.CANCELLED: "cancelled_at",
    BatchStatus.EXPIRED: "expired_at",
}


def finalize_batch(stores: Stores, settings: Settings, batch_id: str, outcome: str) -> str:
    """Returns the terminal status. Safe to run again, after a crash too: the files come out the same.
    Memory stays at a few parts, whatever the batch size."""
    batch = load_batch(stores, batch_id)
    if batch.is_terminal:
        return batch.status
    ending = BatchStatus(outcome)
    if ending == BatchStatus.COMPLETED:
        try:
            batch = transition(stores, batch_id, to=BatchStatus.FINALIZING, changes={"finalizing_at": int(time.time())})
        except InvalidTransition:
            batch = load_batch(stores, batch_id)
            ending = BatchStatus.CANCELLED if batch.status == BatchStatus.CANCELLING else ending
    assemble_rest(stores, settings, batch)
    output, errors = _join(stores, batch, "output"), _join(stores, batch, "errors")
    changes = {
        _TIMESTAMP[ending]: int(time.time()),
        "output_key": output.key if output else None,
        "error_key": errors.key if errors else None,
    }
    register_batch_files(stores, settings, batch, output, errors)
    if batch.output_bucket_key and output:
        changes["output_object_key"] = store_batch_output(
            stores, batch.tenant_id, batch.output_bucket_key, batch.id, output.key, output.size
        )
    try:
        transition(stores, batch_id, to=ending, changes=changes)
    except InvalidTransition:
        return _ended_meanwhile(stores, batch_id)
    return ending


def _join(stores: Stores, batch: Batch, stream: Stream) -> BatchFile | None:
    """The file of `stream` joined from the parts' pieces, in input order; None when no line went to it.
    An upload a crashed run left open is aborted by the bucket's lifecycle rule, not here: a duplicate run may
    still be writing it."""
    pieces = [piece for part in stores.assembly.parts(batch.id) if (piece := part.piece(stream))]
    if not pieces:
        return None
    key = stores.blobs.output_key(batch.tenant_id, batch.id)
    if stream == "errors":
        key = stores.blobs.error_key(batch.tenant_id, batch.id)
    return BatchFile(key, stores.blobs.join(key, pieces))


def _ended_meanwhile(stores: Stores, batch_id: str) -> str:
    """Another finalize (a retry, a duplicate) ended the batch first from the same files: its status stands."""
    batch = load_batch(stores, batch_id)
    if not batch.is_terminal:
        raise InvalidTransition(f"batch {batch_id} is {batch.status}; it cannot be finalized")
    return batch.status
