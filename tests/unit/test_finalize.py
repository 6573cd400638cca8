"""Finalize on in-memory stores: output and error files in input order, the terminal status, safe to run again."""

import json
from typing import Any

from batch_core.batches import cancel_batch
from batch_core.dal.stores import Stores
from batch_core.finalize import finalize_batch
from batch_core.models.file import error_file_id, output_file_id
from batch_core.workflow.decisions import check_batch
from tests.unit.fakes.upstream import TableUpstream, answered, status
from tests.unit.given import SETTINGS, TENANT, current, new_stores, prepared, run, run_all

PROMPTS = ["a", "b", "c", "d", "e"]


def read_lines(stores: Stores, key: str | None) -> list[dict[str, Any]]:
    assert key is not None
    return [json.loads(line) for line in stores.blobs.get(key).splitlines()]


def test_finalize_writes_output_and_error_files_in_input_order_and_completes() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS)
    # Line b succeeds only in its unit's second attempt, so its result sits in a later part than c's.
    upstream = TableUpstream({"b": [status(503), answered("B")], "d": [status(400)]})
    run_all(stores, upstream)
    run(stores, stores.queue.sent[0], upstream, delivery="m2")

    outcome = finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert (outcome, ended.status) == ("completed", "completed")
    assert ended.finalizing_at is not None and ended.completed_at is not None
    output, errors = read_lines(stores, ended.output_key), read_lines(stores, ended.error_key)
    assert [line["custom_id"] for line in output] == ["c0", "c1", "c2", "c4"]
    assert [line["response"]["body"]["choices"][0]["message"]["content"] for line in output] == ["a", "B", "c", "e"]
    assert [(line["custom_id"], line["response"]["status_code"], line["error"]["code"]) for line in errors] == [
        ("c3", 400, "code_400")
    ]
    output_file, error_file = stores.files.get(output_file_id(batch.id)), stores.files.get(error_file_id(batch.id))
    assert output_file is not None and error_file is not None
    assert (output_file.object_key, output_file.purpose) == (ended.output_key, "batch_output")
    assert output_file.bytes == len(stores.blobs.get(output_file.object_key))
    assert error_file.object_key == ended.error_key


def test_finalizing_again_changes_nothing() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS)
    run_all(stores)
    finalize_batch(stores, SETTINGS, batch.id, "completed")
    ended = current(stores, batch)
    output = stores.blobs.get(ended.output_key or "")

    again = finalize_batch(stores, SETTINGS, batch.id, "completed")

    assert again == "completed"
    assert current(stores, batch) == ended
    assert stores.blobs.get(ended.output_key or "") == output


def test_a_cancelled_batch_lists_its_unrun_lines_in_the_error_file() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS)
    run(stores, stores.queue.sent[0])
    cancel_batch(stores, TENANT, batch.id)
    check_batch(stores, SETTINGS, batch.id)

    outcome = finalize_batch(stores, SETTINGS, batch.id, "cancelled")

    ended = current(stores, batch)
    assert (outcome, ended.status) == ("cancelled", "cancelled")
    assert ended.cancelled_at is not None and ended.completed_at is None
    assert [line["custom_id"] for line in read_lines(stores, ended.output_key)] == ["c0", "c1", "c2"]
    errors = read_lines(stores, ended.error_key)
    assert [(line["custom_id"], line["response"], line["error"]["code"]) for line in errors] == [
        ("c3", None, "batch_cancelled"),
        ("c4", None, "batch_cancelled"),
    ]


def test_a_completion_that_meets_a_cancel_ends_the_batch_cancelled() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS)
    run_all(stores)
    cancel_batch(stores, TENANT, batch.id)

    outcome = finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert (outcome, ended.status, ended.error_key) == ("cancelled", "cancelled", None)
    assert len(read_lines(stores, ended.output_key)) == 5


def test_the_output_is_copied_into_the_bucket_the_batch_names() -> None:
    stores = new_stores()
    batch = prepared(stores, PROMPTS, output_bucket_key="results")
    run_all(stores)

    finalize_batch(stores, SETTINGS, batch.id, "completed")

    ended = current(stores, batch)
    assert ended.output_object_key is not None
    found = stores.objects.get(TENANT, "results", ended.output_object_key)
    assert found is not None and found.complete
    assert stores.blobs.get(found.s3_key) == stores.blobs.get(ended.output_key or "")
