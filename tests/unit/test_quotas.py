"""A tenant's quotas on in-memory stores: what a create past one is told, what it leaves behind, and when what a
batch holds comes free again."""

import time

import pytest

from batch_core.errors import QuotaExceeded
from batch_core.flow.estimate import estimated_tokens
from batch_core.lifecycle import transition
from batch_core.models.quota import TenantQuota
from batch_core.models.status import BatchStatus
from batch_core.prepare import prepare_batch
from batch_core.quotas import limits_of, reserve, set_limits
from tests.unit.given import (
    SETTINGS,
    TENANT,
    chat,
    created,
    created_from_file,
    current,
    file_line,
    new_stores,
    uploaded,
)


def test_a_create_past_the_line_quota_names_it_and_what_is_in_use_and_stores_nothing() -> None:
    stores = new_stores()
    set_limits(stores, TENANT, TenantQuota(enqueued_lines=5))
    first = created(stores, ["a", "b", "c"])

    with pytest.raises(QuotaExceeded) as refused:
        created(stores, ["d", "e", "f"])

    assert refused.value.details() == {"name": "enqueued_lines", "limit": 5, "in_use": 3, "requested": 3}
    assert "quota enqueued_lines exceeded: 3 in use of 5 and this batch needs 3" in refused.value.message
    assert refused.value.code == "quota_exceeded"
    assert list(stores.batches.records) == [first.id]
    assert set(stores.blobs.blobs) == {first.input_key}
    assert [stored.id for stored in stores.files.records.values()] == [first.input_file_id]
    assert list(stores.workflow.started) == [first.id]
    assert list(stores.quotas.get(TENANT).reservations) == [first.id]


def test_the_batches_in_progress_quota_frees_when_a_batch_ends() -> None:
    stores = new_stores()
    set_limits(stores, TENANT, TenantQuota(batches_in_progress=1))
    first = created(stores, ["a"])
    with pytest.raises(QuotaExceeded) as refused:
        created(stores, ["b"])

    transition(stores, first.id, to=BatchStatus.FAILED, changes={"failed_at": int(time.time())})

    assert refused.value.details() == {"name": "batches_in_progress", "limit": 1, "in_use": 1, "requested": 1}
    assert created(stores, ["b"]).status == "validating"


def test_the_token_quota_counts_each_lines_estimate_and_answers_openais_code() -> None:
    stores = new_stores()
    one_line = estimated_tokens(chat("c0", "a")["body"])
    set_limits(stores, TENANT, TenantQuota(enqueued_tokens=one_line * 2))
    created(stores, ["a"])

    with pytest.raises(QuotaExceeded) as refused:
        created(stores, ["b", "c"])

    assert refused.value.details()["in_use"] == one_line
    assert refused.value.as_error()["code"] == "token_limit_exceeded"


def test_a_file_batch_holds_its_lines_once_prepare_has_counted_them_and_fails_before_queueing_past_the_quota() -> None:
    stores = new_stores()
    set_limits(stores, TENANT, TenantQuota(enqueued_lines=4))
    small = created_from_file(stores, uploaded(stores, [file_line("a", "x"), file_line("b", "y")]))
    large = created_from_file(stores, uploaded(stores, [file_line(f"l{n}", "z") for n in range(3)]))

    prepare_batch(stores, SETTINGS, small.id)
    with pytest.raises(QuotaExceeded) as refused:
        prepare_batch(stores, SETTINGS, large.id)

    held = stores.quotas.get(TENANT).reservations
    assert (held[small.id].lines, held[large.id].lines) == (2, 0)
    assert refused.value.details() == {"name": "enqueued_lines", "limit": 4, "in_use": 2, "requested": 3}
    assert {message.batch_id for message in stores.queue.sent} == {small.id}
    assert current(stores, large).status == "validating"


def test_a_reservation_whose_release_was_lost_holds_nothing_past_its_batchs_window() -> None:
    stores = new_stores()
    set_limits(stores, TENANT, TenantQuota(batches_in_progress=1))
    reserve(stores, SETTINGS, TENANT, "batch_lost", lines=1, tokens=1, until=int(time.time()) - 1)

    batch = created(stores, ["a"])

    assert list(stores.quotas.get(TENANT).reservations) == [batch.id]


def test_a_tenants_own_limits_replace_the_defaults_one_by_one() -> None:
    stores = new_stores()
    set_limits(stores, TENANT, TenantQuota(enqueued_lines=7))

    limits = limits_of(SETTINGS, stores.quotas.get(TENANT))

    assert (limits.enqueued_lines, limits.batches_in_progress) == (7, SETTINGS.quota_batches_in_progress)
    assert limits.enqueued_tokens == SETTINGS.quota_enqueued_tokens
