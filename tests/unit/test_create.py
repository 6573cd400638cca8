"""Creating batches on in-memory stores: what is stored and started, and what a rejected create leaves behind."""

import base64
import json

import pytest

from batch_core.batches import create_batch
from batch_core.buckets import upload_object
from batch_core.errors import InvalidInput, InvalidLines, StorageError
from batch_core.files import delete_file
from batch_core.models.batch import CreateBatchRequest, FileRef
from batch_core.models.bucket_object import UploadObjectRequest
from batch_core.prepare import prepare_batch
from tests.unit.given import (
    CHAT,
    SETTINGS,
    TENANT,
    chat,
    created,
    created_from_file,
    current,
    file_line,
    new_stores,
    run_all,
    uploaded,
)


def test_an_inline_batch_stores_its_input_and_starts_its_workflow() -> None:
    stores = new_stores()

    batch = created(stores, ["a", "b"], metadata={"team": "x"})

    assert (batch.status, batch.request_counts.total, batch.metadata) == ("validating", 2, {"team": "x"})
    assert current(stores, batch) == batch
    data = stores.blobs.get(batch.input_key)
    assert [json.loads(line) for line in data.splitlines()] == [file_line("c0", "a"), file_line("c1", "b")]
    assert stores.workflow.started == {batch.id: {"batch_id": batch.id}}
    assert batch.input_file_id is not None
    input_file = stores.files.get(batch.input_file_id)
    assert input_file is not None and (input_file.object_key, input_file.bytes) == (batch.input_key, len(data))


def test_a_bad_inline_line_is_rejected_naming_line_and_field_and_nothing_is_stored() -> None:
    stores = new_stores()
    requests = [chat("c0", "a"), {**chat("c1", "b"), "method": "GET"}]

    with pytest.raises(InvalidLines) as rejected:
        create_batch(stores, SETTINGS, TENANT, CreateBatchRequest(endpoint=CHAT, requests=requests))

    assert (rejected.value.message, rejected.value.line, rejected.value.param) == (
        "line 2: method must be POST",
        2,
        "method",
    )
    assert stores.batches.list(TENANT, limit=10) == []
    assert (stores.blobs.blobs, stores.workflow.started) == ({}, {})


def test_a_batch_whose_workflow_cannot_start_ends_failed() -> None:
    stores = new_stores()
    stores.workflow.unavailable = True

    with pytest.raises(StorageError):
        created(stores, ["a"])

    (batch,) = stores.batches.list(TENANT, limit=10)
    assert (batch.status, batch.error_message) == ("failed", "the batch could not start")
    assert batch.failed_at is not None


def test_an_openai_batch_pins_the_version_of_its_file() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("c0", "a")])

    batch = created_from_file(stores, stored)
    stores.blobs.put(stored.object_key, b"lines written after the batch was created\n")

    head = stores.blobs.head(stored.object_key)
    assert (batch.source_key, batch.input_file_id, batch.request_counts.total) == (stored.object_key, stored.id, 0)
    assert head is not None and batch.source_etag != head.etag
    assert stores.workflow.started == {batch.id: {"batch_id": batch.id}}
    with pytest.raises(InvalidInput) as rejected:
        prepare_batch(stores, SETTINGS, batch.id)
    assert (rejected.value.message, rejected.value.param) == (
        f"input_file_id: file '{stored.id}' changed or was deleted after the batch was created; create the batch again",
        "input_file_id",
    )


def test_an_openai_batch_runs_its_file_as_it_was_when_prepared_even_once_deleted() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("c0", "a"), file_line("c1", "b")])
    data = stores.blobs.get(stored.object_key)
    batch = created_from_file(stores, stored)
    prepare_batch(stores, SETTINGS, batch.id)

    delete_file(stores, TENANT, stored.id)
    run_all(stores)

    assert stores.blobs.get(batch.input_key) == data
    ended = current(stores, batch)
    assert (ended.status, ended.request_counts.total, ended.request_counts.completed) == ("in_progress", 2, 2)


def test_an_openai_batch_of_an_unknown_file_is_rejected_naming_the_file() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("c0", "a")])
    delete_file(stores, TENANT, stored.id)

    with pytest.raises(InvalidInput) as rejected:
        created_from_file(stores, stored)

    assert (rejected.value.message, rejected.value.param) == (f"No file found with id '{stored.id}'", "input_file_id")
    assert stores.workflow.started == {}


def test_a_bucket_batch_over_the_input_size_limit_is_refused_naming_its_input() -> None:
    stores = new_stores()
    data = b"".join(json.dumps(file_line(f"c{n}", f"prompt {n}")).encode() + b"\n" for n in range(3))
    request = UploadObjectRequest(fileName="in.jsonl", data=base64.b64encode(data).decode())
    stored = upload_object(stores, TENANT, "inputs", request)
    tight = SETTINGS.model_copy(update={"max_input_bytes": len(data) - 1})
    create = CreateBatchRequest(endpoint=CHAT, input_file=FileRef(bucket_key="inputs", object_key=stored.key))

    with pytest.raises(InvalidInput) as refused:
        create_batch(stores, tight, TENANT, create)

    assert refused.value.param == "input_file"
    assert refused.value.message == (
        f"input_file: the input is {len(data):,} bytes; a batch's input may be at most {len(data) - 1:,}"
    )
    assert stores.batches.records == {}
    assert create_batch(stores, SETTINGS, TENANT, create).status == "validating"
