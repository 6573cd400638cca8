"""An uploaded input is checked when it lands, with the line rules prepare uses; a batch made from a checked file
for the endpoint it was checked for is planned first, then cut without reading its lines again, each unit queued as
soon as it is stored."""

from collections.abc import Sequence

import pytest

from batch_core import validation
from batch_core.batches import create_batch_from_file
from batch_core.errors import InvalidLines, StorageError
from batch_core.file_checks import check_file
from batch_core.models.batch import OpenAICreateBatch
from batch_core.models.work_unit import WorkUnit
from batch_core.prepare import prepare_batch
from tests.unit.given import (
    CHAT,
    SETTINGS,
    TENANT,
    answer_contents,
    created_from_checked_file,
    current,
    file_line,
    new_stores,
    run_first_then_prepare_again,
    uploaded,
)


def test_an_upload_is_uploaded_until_the_check_it_queues_ends() -> None:
    stores = new_stores()

    stored = uploaded(stores, [file_line("a", "hi")])

    assert (stored.status, stores.file_checks.sent) == ("uploaded", [stored.id])


def test_a_checked_file_is_processed_knowing_its_endpoint_lines_model_and_tokens() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("a", "hi"), file_line("b", "there")])

    check_file(stores, SETTINGS, stored.id)

    checked = stores.files.get(stored.id)
    assert checked is not None and checked.status == "processed" and checked.check is not None
    assert (checked.check.endpoint, checked.check.lines, checked.check.model) == (CHAT, 2, "gpt-test")
    assert checked.check.tokens > 0
    assert checked.check.etag == stores.blobs.head(stored.object_key).etag


def test_a_file_with_bad_lines_is_in_error_naming_them_as_a_batch_would() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("a", "hi"), file_line("a", "again"), file_line("c", "x", method="GET")])

    check_file(stores, SETTINGS, stored.id)

    checked = stores.files.get(stored.id)
    assert checked is not None and (checked.status, checked.check) == ("error", None)
    assert checked.status_details == (
        "line 2: custom_id 'a' duplicates line 1; line 3: method must be POST (2 lines are invalid)"
    )


def test_a_file_whose_first_line_names_no_endpoint_is_processed_unchecked() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("a", "hi", url="/v1/unknown"), file_line("b", "x")])

    check_file(stores, SETTINGS, stored.id)

    checked = stores.files.get(stored.id)
    assert checked is not None and (checked.status, checked.check, checked.status_details) == ("processed", None, None)


def test_a_batch_of_a_checked_file_is_prepared_without_reading_its_lines_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    batch = created_from_checked_file(stores, ["hi"] * 7)

    def unread(raw: bytes, number: int | None, endpoint: str) -> None:
        raise AssertionError(f"line {number} was read again")

    monkeypatch.setattr(validation, "checked_line", unread)
    prepare_batch(stores, SETTINGS, batch.id)

    batch = current(stores, batch)
    assert (batch.status, batch.request_counts.total, batch.units, batch.model) == ("in_progress", 7, 3, "gpt-test")
    assert [(unit.first, unit.count) for unit in stores.queue.sent] == [(0, 3), (3, 3), (6, 1)]


def test_a_batch_of_a_checked_file_queues_its_first_units_before_its_last_are_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    batch = created_from_checked_file(stores, ["hi"] * 3000)
    at_first_send: list[tuple[int, int]] = []
    send = stores.queue.send

    def noting_the_first_send(units: Sequence[WorkUnit]) -> int:
        if not at_first_send:
            at_first_send.append((current(stores, batch).units, len(list(stores.units.list(batch.id)))))
        return send(units)

    monkeypatch.setattr(stores.queue, "send", noting_the_first_send)
    prepare_batch(stores, SETTINGS, batch.id)

    planned_units, stored_units = at_first_send[0]
    assert planned_units == 1000 and stored_units <= 200
    assert sorted(unit.unit for unit in stores.queue.sent) == list(range(1000))


def test_a_prepare_of_a_checked_file_that_crashed_while_storing_runs_again_keeping_what_ran_and_storing_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    prompts = [f"p{n}" for n in range(90)]
    batch = created_from_checked_file(stores, prompts)
    put_all = stores.units.put_all

    def crash_on_the_last_units(units: Sequence[WorkUnit], ttl: int) -> None:
        if units[0].unit == 25:
            raise StorageError("the function ran out of time")
        put_all(units, ttl)

    with monkeypatch.context() as patched:
        patched.setattr(stores.units, "put_all", crash_on_the_last_units)
        with pytest.raises(StorageError):
            prepare_batch(stores, SETTINGS, batch.id)
    sent_before = run_first_then_prepare_again(stores, batch, prompts)

    assert [unit.unit for unit in sent_before] == list(range(25))
    assert current(stores, batch).request_counts.completed == 90
    assert answer_contents(stores, batch) == ["A"] * 3 + ["B"] * 87


def test_a_batch_for_another_endpoint_than_its_file_was_checked_for_checks_its_lines() -> None:
    stores = new_stores()
    stored = uploaded(stores, [file_line("a", "hi")])
    check_file(stores, SETTINGS, stored.id)
    batch = create_batch_from_file(
        stores, SETTINGS, TENANT, OpenAICreateBatch(input_file_id=stored.id, endpoint="/v1/embeddings")
    )

    with pytest.raises(InvalidLines) as refused:
        prepare_batch(stores, SETTINGS, batch.id)

    assert refused.value.message == "line 1: url must be the batch's endpoint /v1/embeddings"
