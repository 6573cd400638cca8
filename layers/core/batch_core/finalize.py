"""Finalize: stream the output and error files in input order, then give the batch its terminal status."""

import time

from batch_core.buckets import store_batch_output
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidTransition
from batch_core.files import register_batch_files
from batch_core.lifecycle import transition
from batch_core.line_views import iter_lines
from batch_core.models.status import BatchStatus
from batch_core.output_lines import to_output_line
from batch_core.settings import Settings
from batch_core.workflow.loading import load_batch

_TIMESTAMP = {
    BatchStatus.COMPLETED: "completed_at",
    BatchStatus.CANCELLED: "cancelled_at",
    BatchStatus.EXPIRED: "expired_at",
}


def finalize_batch(stores: Stores, settings: Settings, batch_id: str, outcome: str) -> str:
    """Returns the terminal status. Memory stays at one unit plus one upload part, whatever the batch size."""
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
    with (
        stores.blobs.writer(stores.blobs.output_key(batch.tenant_id, batch.id)) as output,
        stores.blobs.writer(stores.blobs.error_key(batch.tenant_id, batch.id)) as errors,
    ):
        for view in iter_lines(stores, batch):
            writer = output if view.status == "succeeded" else errors
            writer.write(to_output_line(batch, view).model_dump_json().encode() + b"\n")
    changes = {
        _TIMESTAMP[ending]: int(time.time()),
        "output_key": output.key if output.written else None,
        "error_key": errors.key if errors.written else None,
    }
    register_batch_files(stores, settings, batch, output, errors)
    if batch.output_bucket_key and changes["output_key"]:
        changes["output_object_key"] = store_batch_output(
            stores, batch.tenant_id, batch.output_bucket_key, batch.id, output.key, output.size
        )
    try:
        transition(stores, batch_id, to=ending, changes=changes)
    except InvalidTransition:
        return _ended_meanwhile(stores, batch_id)
    return ending


def _ended_meanwhile(stores: Stores, batch_id: str) -> str:
    """Another finalize (a retry, a duplicate) ended the batch first from the same files: its status stands."""
    batch = load_batch(stores, batch_id)
    if not batch.is_terminal:
        raise InvalidTransition(f"batch {batch_id} is {batch.status}; it cannot be finalized")
    return batch.status
