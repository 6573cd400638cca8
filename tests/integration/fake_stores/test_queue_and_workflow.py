"""The work queue's messages and the workflow's executions, as the fakes record them and as SQS and Step Functions
hold them."""

import boto3
import pytest

from batch_core.dal.stores import Stores
from batch_core.errors import StorageError
from batch_core.models.work_unit import WorkUnit
from tests.unit.fakes.queue import FakeWorkQueue


def work_unit(unit: int) -> WorkUnit:
    return WorkUnit(
        batch_id="batch_1", unit=unit, first=unit * 3, count=3, byte_start=unit * 30, byte_end=unit * 30 + 30
    )


def arrived(stores: Stores) -> list[WorkUnit]:
    """The messages on the queue, sent and requeued, in unit order."""
    if isinstance(stores.queue, FakeWorkQueue):
        units = [*stores.queue.sent, *(requeued.unit for requeued in stores.queue.requeued)]
    else:
        sqs, units = boto3.client("sqs"), []
        while answer := sqs.receive_message(QueueUrl=stores.queue.queue_url, MaxNumberOfMessages=10).get("Messages"):
            units += [WorkUnit.model_validate_json(message["Body"]) for message in answer]
    return sorted(units, key=lambda unit: unit.unit)


def test_units_are_queued_as_they_come_and_a_requeue_sends_one_more(stores: Stores) -> None:
    sent = stores.queue.send(work_unit(n) for n in range(12))
    stores.queue.requeue(work_unit(12), delay=0)

    assert sent == 12
    assert arrived(stores) == [work_unit(n) for n in range(13)]


def test_a_batch_has_one_execution_whatever_the_retries_of_its_start(stores: Stores) -> None:
    stores.workflow.start("batch_1", {"batch_id": "batch_1"})
    stores.workflow.start("batch_1", {"batch_id": "batch_1"})

    with pytest.raises(StorageError):
        stores.workflow.start("batch_1", {"batch_id": "other"})
