import math
import time
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from batch_core.dal.clients import AWS_ERRORS, AwsClients, storage_error
from batch_core.errors import StorageError
from batch_core.models.work_unit import WorkUnit
from batch_core.settings import Settings

_MAX_DELAY_SECONDS = 900
_MAX_VISIBILITY_SECONDS = 12 * 3600


def sqs_delay(delay: float) -> tuple[int, int | None]:
    """The DelaySeconds of a message due in `delay` seconds, and its due time when that is past SQS's
    15-minute delay: the message then hops until it is due."""
    seconds = max(0, math.ceil(delay))
    due = int(time.time()) + seconds if seconds > _MAX_DELAY_SECONDS else None
    return min(seconds, _MAX_DELAY_SECONDS), due


def send_delayed(sqs: Any, queue_url: str, message: BaseModel, delay: float, what: str, **group: str) -> None:
    """Sends `message` (a model with a `not_before` field) to be received after `delay` seconds, carrying its
    due time when it must hop; a failed send is the StorageError "could not `what`"."""
    delay_seconds, due = sqs_delay(delay)
    body = message.model_copy(update={"not_before": due}).model_dump_json(exclude_none=True)
    try:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay_seconds, **group)
    except AWS_ERRORS as exc:
        raise storage_error(f"could not {what}", exc) from exc


class WorkQueue:
    """The SQS queue of work units the executor consumes."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.queue_url = settings.work_queue_url
        self._aws = aws

    def send(self, units: Iterable[WorkUnit]) -> int:
        """Queues work units ten to a request, as they come; returns how many were sent."""
        batch: list[WorkUnit] = []
        sent = 0
        for unit in units:
            batch.append(unit)
            if len(batch) == 10:
                sent += self._send_batch(batch)
                batch = []
        if batch:
            sent += self._send_batch(batch)
        return sent

    def requeue(self, unit: WorkUnit, delay: float) -> None:
        """Queues the unit again to run after `delay` seconds, as a fresh message: a wait is no failed receive,
        so it never moves the unit toward the dead-letter queue. SQS delays a message 15 minutes at most; a
        longer wait carries its due time and hops until then."""
        what = f"requeue unit {unit.unit} of batch {unit.batch_id}"
        send_delayed(self._sqs, self.queue_url, unit, delay, what, **_fair_group(unit))

    def delay(self, receipt_handle: str, seconds: float) -> None:
        """Keeps a received message hidden for `seconds`: it comes back then, one more receive counted."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=max(1, min(_MAX_VISIBILITY_SECONDS, round(seconds))),
            )
        except AWS_ERRORS as exc:
            raise storage_error("could not delay the work unit's message", exc) from exc

    @property
    def _sqs(self) -> Any:
        return self._aws.client("sqs")

    def _send_batch(self, units: list[WorkUnit]) -> int:
        entries = [
            {"Id": str(n), "MessageBody": unit.model_dump_json(exclude_none=True), **_fair_group(unit)}
            for n, unit in enumerate(units)
        ]
        try:
            answer = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except AWS_ERRORS as exc:
            raise storage_error("could not queue work units", exc) from exc
        if answer.get("Failed"):
            raise StorageError(f"could not queue {len(answer['Failed'])} work units: {answer['Failed'][0]}")
        return len(entries)


def _fair_group(unit: WorkUnit) -> dict[str, str]:
    """On a standard queue a message group makes SQS serve groups fairly (a fair queue): a tenant with a few
    units waiting gets them received soon, however many another tenant has queued."""
    return {"MessageGroupId": unit.tenant_id} if unit.tenant_id else {}
