"""Every change of a batch's status puts one event on the bus, in order, with its counts."""

from batch_core.batches import cancel_batch
from batch_core.finalize import finalize_batch
from batch_core.workflow.decisions import check_batch, mark_failed
from tests.unit.given import SETTINGS, TENANT, created, new_stores, prepared, run_all


def test_a_completed_batch_is_heard_at_every_status_with_its_counts() -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c", "d"])
    run_all(stores)
    finalize_batch(stores, SETTINGS, batch.id, check_batch(stores, SETTINGS, batch.id).outcome or "")

    events = stores.events.put_details  # type: ignore[attr-defined]

    assert [event["status"] for event in events] == ["validating", "in_progress", "finalizing", "completed"]
    assert {event["id"] for event in events} == {batch.id} and {event["tenant_id"] for event in events} == {TENANT}
    assert events[-1]["request_counts"] == {"total": 4, "completed": 4, "failed": 0, "cancelled": 0, "expired": 0}
    assert events[-1]["completed_at"] is not None and events[0]["completed_at"] is None


def test_a_cancelled_and_a_failed_batch_are_heard_ending() -> None:
    stores = new_stores()
    cancelled = prepared(stores, ["a", "b", "c", "d"])
    cancel_batch(stores, TENANT, cancelled.id)
    finalize_batch(stores, SETTINGS, cancelled.id, check_batch(stores, SETTINGS, cancelled.id).outcome or "")
    failed = created(stores, ["x"])
    mark_failed(stores, failed.id, "the input is not JSONL")
    mark_failed(stores, failed.id, "a retried task that fails it again")

    statuses = [(event["id"], event["status"]) for event in stores.events.put_details]  # type: ignore[attr-defined]

    assert [status for batch_id, status in statuses if batch_id == cancelled.id] == [
        "validating",
        "in_progress",
        "cancelling",
        "cancelled",
    ]
    assert [status for batch_id, status in statuses if batch_id == failed.id] == ["validating", "failed"]
