"""Webhook deliveries: a batch's ending becomes one delivery per endpoint that listens for it, each attempted
from the webhook queue, retried on the settings' schedule (about a day) and recorded for its endpoint."""

import hashlib
import time
from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit

from batch_core.dal.stores import Stores
from batch_core.models.webhook import (
    BatchStatusChange,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from batch_core.observability import logger, metrics
from batch_core.settings import Settings
from batch_core.webhooks.addresses import RefusedAddress, Target, checked_target
from batch_core.webhooks.sender import Answer, post
from batch_core.webhooks.signing import signed_headers

Send = Callable[[Target, str, dict[str, str], float], Answer]


def event_of(change: BatchStatusChange) -> WebhookEvent | None:
    """The webhook event of a status change; None for a status that is not an ending. Its id is made from the
    bus event's, so the same change heard twice is the same event (and the same `webhook-id`)."""
    event_type = WebhookEventType.of(change.detail.status)
    if event_type is None:
        return None
    created_at = int(change.time.timestamp())
    digest = hashlib.sha256(change.id.encode()).hexdigest()[:16]
    return WebhookEvent(
        id=f"evt_{created_at * 1000:012x}{digest}",
        type=event_type,
        created_at=created_at,
        data={"id": change.detail.id},
    )


def fan_out(stores: Stores, change: BatchStatusChange) -> int:
    """Records a delivery for each of the tenant's endpoints that listens for the event and queues its first
    attempt; returns how many were queued. A change heard again queues only what has not been attempted yet."""
    event = event_of(change)
    if event is None:
        return 0
    queued = 0
    for endpoint in stores.webhooks.list_endpoints(change.detail.tenant_id):
        if event.type not in endpoint.events:
            continue
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event=event, created_at=int(time.time()))
        if not stores.webhooks.add_delivery(delivery):
            recorded = stores.webhooks.get_delivery(endpoint.id, event.id)
            if recorded is None or recorded.attempts > 0:
                continue
        attempt = DeliveryAttempt(tenant_id=endpoint.tenant_id, endpoint_id=endpoint.id, event_id=event.id, attempt=1)
        stores.webhook_queue.send(attempt)
        queued += 1
    return queued


def attempt_delivery(
    stores: Stores, settings: Settings, attempt: DeliveryAttempt, send: Send = post
) -> DeliveryStatus | None:
    """Makes the attempt and records it; returns the delivery's status after it, or None when there was nothing
    to attempt (not due yet, already attempted, or already ended)."""
    now = time.time()
    if attempt.not_before and attempt.not_before > now:
        stores.webhook_queue.send(attempt, attempt.not_before - now)
        return None
    delivery = stores.webhooks.get_delivery(attempt.endpoint_id, attempt.event_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING or delivery.attempts >= attempt.attempt:
        return None
    endpoint = stores.webhooks.get_endpoint(attempt.tenant_id, attempt.endpoint_id)
    answer = _send(settings, endpoint, delivery, send, now) if endpoint else Answer(error="the endpoint was deleted")
    attempts = delivery.attempts + 1
    wait = None if answer.delivered or endpoint is None else _retry_wait(settings, attempts)
    status = DeliveryStatus.PENDING if wait is not None else DeliveryStatus.FAILED
    if answer.delivered:
        status = DeliveryStatus.DELIVERED
    if wait is not None:
        # Queued before the attempt is recorded: if recording fails, this message comes back and the next
        # attempt is already on its way, so a retry is never lost (at worst a receiver hears it twice).
        stores.webhook_queue.send(attempt.model_copy(update={"attempt": attempts + 1, "not_before": None}), wait)
    recorded = delivery.model_copy(
        update={
            "status": status,
            "attempts": attempts,
            "response_status": answer.status,
            "error": answer.error,
            "last_attempt_at": int(now),
            "next_attempt_at": int(now + wait) if wait is not None else None,
        }
    )
    if not stores.webhooks.record_attempt(recorded, attempts_before=delivery.attempts):
        return None
    _measure(status, answer)
    logger.info(
        "webhook attempted",
        extra={"endpoint_id": attempt.endpoint_id, "event_id": attempt.event_id, "attempt": attempts, "status": status},
    )
    return status


def _send(settings: Settings, endpoint: WebhookEndpoint, delivery: WebhookDelivery, send: Send, now: float) -> Answer:
    try:
        target = checked_target(endpoint.url, allow_loopback=settings.webhook_allow_loopback)
    except RefusedAddress as refused:
        return Answer(error=refused.reason)
    body = delivery.event.model_dump_json()
    headers = signed_headers(endpoint.secret, delivery.event.id, body, now)
    return send(target, body, headers, settings.webhook_timeout_seconds)


def _retry_wait(settings: Settings, attempts: int) -> int | None:
    """The wait before the next attempt after `attempts` failed ones; None once the schedule is spent."""
    schedule = settings.webhook_retry_seconds
    return schedule[attempts - 1] if attempts <= len(schedule) else None


def _measure(status: DeliveryStatus, answer: Answer) -> None:
    if status == DeliveryStatus.DELIVERED:
        metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="WebhookAttemptsFailed", unit=MetricUnit.Count, value=1)
    if status == DeliveryStatus.FAILED:
        metrics.add_metric(name="WebhooksFailed", unit=MetricUnit.Count, value=1)
