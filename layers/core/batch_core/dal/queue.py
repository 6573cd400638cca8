import math
import time
from collections.abc import Iterable

from botocore.exceptions import ClientError

from batch_core.dal.clients import client
from batch_core.errors import StorageError
from batch_core.models.work_unit import WorkUnit
from batch_core.settings import get_settings

_MAX_DELAY_SECONDS = 900
_MAX_VISIBILITY_SECONDS = 12 * 3600


def send_units(units: Iterable[WorkUnit]) -> int:
    """Queues work units ten to a request; returns how many were sent."""
    batch: list[WorkUnit] = []
    sent = 0
    for unit in units:
        batch.append(unit)
        if len(batch) == 10:
            sent += _send(batch)
            batch = []
    if batch:
        sent += _send(batch)
    return sent


def _send(units: list[WorkUnit]) -> int:
    entries = [{"Id": str(n), "MessageBody": unit.model_dump_json(exclude_none=True)} for n, unit in enumerate(units)]
    try:
        answer = client("sqs").send_message_batch(QueueUrl=get_settings().work_queue_url, Entries=entries)
    except ClientError as exc:
        raise StorageError("could not queue work units") from exc
    if answer.get("Failed"):
        raise StorageError(f"could not queue {len(answer['Failed'])} work units: {answer['Failed'][0]}")
    return len(entries)


def requeue_unit(unit: WorkUnit, delay: float) -> None:
    """Queues the unit again to run after `delay` seconds, as a fresh message: a wait is no failed receive,
    so it never moves the unit toward the dead-letter queue. SQS delays a message 15 minutes at most; a
    longer wait carries its due time and hops until then."""
    seconds = max(0, math.ceil(delay))
    due = int(time.time()) + seconds if seconds > _MAX_DELAY_SECONDS else None
    message = unit.model_copy(update={"not_before": due})
    try:
        client("sqs").send_message(
            QueueUrl=get_settings().work_queue_url,
            MessageBody=message.model_dump_json(exclude_none=True),
            DelaySeconds=min(seconds, _MAX_DELAY_SECONDS),
        )
    except ClientError as exc:
        raise StorageError(f"could not requeue unit {unit.unit} of batch {unit.batch_id}") from exc


def delay_message(receipt_handle: str, seconds: float) -> None:
    """Keeps a received message hidden for `seconds`: it comes back then, one more receive counted."""
    try:
        client("sqs").change_message_visibility(
            QueueUrl=get_settings().work_queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(1, min(_MAX_VISIBILITY_SECONDS, round(seconds))),
        )
    except ClientError as exc:
        raise StorageError("could not delay the work unit's message") from exc
