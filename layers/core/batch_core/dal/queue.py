from collections.abc import Iterable

from botocore.exceptions import ClientError

from batch_core.dal.clients import client
from batch_core.errors import StorageError
from batch_core.models.work_unit import WorkUnit
from batch_core.settings import get_settings

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
    entries = [{"Id": str(n), "MessageBody": unit.model_dump_json()} for n, unit in enumerate(units)]
    try:
        answer = client("sqs").send_message_batch(QueueUrl=get_settings().work_queue_url, Entries=entries)
    except ClientError as exc:
        raise StorageError("could not queue work units") from exc
    if answer.get("Failed"):
        raise StorageError(f"could not queue {len(answer['Failed'])} work units: {answer['Failed'][0]}")
    return len(entries)


def delay_message(receipt_handle: str, seconds: float, queue_url: str | None = None) -> None:
    """Keeps a received message hidden for `seconds` so it comes back after a wait, without sleeping."""
    client("sqs").change_message_visibility(
        QueueUrl=queue_url or get_settings().work_queue_url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(1, min(_MAX_VISIBILITY_SECONDS, round(seconds))),
    )
