"""Finalize: stream the output and error files in input order, then give the batch its terminal status."""

import time

from batch_core.buckets import store_batch_output
from batch_core.dal import storage
from batch_core.dal.batches_db import update_batch_in_db
from batch_core.errors import InvalidTransition
from batch_core.files import register_batch_files
from batch_core.lines import iter_lines, to_output_line
from batch_core.tracking import load_batch

_TIMESTAMP = {"completed": "completed_at", "cancelled": "cancelled_at", "expired": "expired_at"}


def finalize_batch(batch_id: str, outcome: str) -> str:
    """Returns the terminal status. Memory stays at one unit plus one upload part, whatever the batch size."""
    batch = load_batch(batch_id)
    if batch.is_terminal:
        return batch.status
    if outcome == "completed":
        try:
            batch = update_batch_in_db(
                batch_id, expected=("in_progress",), changes={"status": "finalizing", "finalizing_at": int(time.time())}
            )
        except InvalidTransition:
            batch = load_batch(batch_id)
            outcome = "cancelled" if batch.status == "cancelling" else outcome
    output = storage.ObjectWriter(storage.output_key(batch.tenant_id, batch.id))
    errors = storage.ObjectWriter(storage.error_key(batch.tenant_id, batch.id))
    try:
        for view in iter_lines(batch):
            writer = output if view.status == "succeeded" else errors
            writer.write(to_output_line(batch, view).model_dump_json().encode() + b"\n")
        changes = {
            "status": outcome,
            _TIMESTAMP[outcome]: int(time.time()),
            "output_key": output.key if output.close() else None,
            "error_key": errors.key if errors.close() else None,
        }
    except BaseException:
        output.abort()
        errors.abort()
        raise
    register_batch_files(batch, output, errors)
    if batch.output_bucket_key and changes["output_key"]:
        changes["output_object_key"] = store_batch_output(
            batch.tenant_id, batch.output_bucket_key, batch.id, output.key, output.size
        )
    try:
        update_batch_in_db(batch_id, expected=("in_progress", "finalizing", "cancelling"), changes=changes)
    except InvalidTransition:
        return _ended_meanwhile(batch_id)
    return outcome


def _ended_meanwhile(batch_id: str) -> str:
    """Another finalize (a retry, a duplicate) ended the batch first from the same files: its status stands."""
    batch = load_batch(batch_id)
    if not batch.is_terminal:
        raise InvalidTransition(f"batch {batch_id} is {batch.status}; it cannot be finalized")
    return batch.status
