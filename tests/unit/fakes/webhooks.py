"""Webhook endpoints, their deliveries and the webhook queue in memory."""

import threading
from dataclasses import dataclass

from batch_core.dal.queue import sqs_delay
from batch_core.models.webhook import DeliveryAttempt, WebhookDelivery, WebhookEndpoint


class FakeWebhookStore:
    """Same methods and answers as WebhookStore: endpoints by tenant, deliveries by endpoint and event id."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], WebhookEndpoint] = {}
        self.deliveries: dict[tuple[str, str], WebhookDelivery] = {}
        self._lock = threading.Lock()

    def put_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.endpoints[(endpoint.tenant_id, endpoint.id)] = endpoint.model_copy(deep=True)

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        found = self.endpoints.get((tenant_id, endpoint_id))
        return found.model_copy(deep=True) if found else None

    def list_endpoints(self, tenant_id: str) -> list[WebhookEndpoint]:
        return [endpoint for (tenant, _), endpoint in sorted(self.endpoints.items()) if tenant == tenant_id]

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        return self.endpoints.pop((tenant_id, endpoint_id), None) is not None

    def add_delivery(self, delivery: WebhookDelivery) -> bool:
        with self._lock:
            key = (delivery.endpoint_id, delivery.event.id)
            if key in self.deliveries:
                return False
            self.deliveries[key] = delivery.model_copy(deep=True)
            return True

    def get_delivery(self, endpoint_id: str, event_id: str) -> WebhookDelivery | None:
        found = self.deliveries.get((endpoint_id, event_id))
        return found.model_copy(deep=True) if found else None

    def record_attempt(self, delivery: WebhookDelivery, *, attempts_before: int) -> bool:
        with self._lock:
            key = (delivery.endpoint_id, delivery.event.id)
            if key not in self.deliveries or self.deliveries[key].attempts != attempts_before:
                return False
            self.deliveries[key] = delivery.model_copy(deep=True)
            return True

    def list_deliveries(
        self, endpoint_id: str, *, limit: int, before: str | None
    ) -> tuple[list[WebhookDelivery], bool]:
        found = sorted(
            (delivery for (endpoint, event_id), delivery in self.deliveries.items() if endpoint == endpoint_id),
            key=lambda delivery: delivery.event.id,
            reverse=True,
        )
        if before:
            found = [delivery for delivery in found if delivery.event.id < before]
        return found[:limit], len(found) > limit


@dataclass(frozen=True)
class QueuedAttempt:
    attempt: DeliveryAttempt
    delay_seconds: int


class FakeWebhookQueue:
    """Same methods as WebhookQueue: `sent` keeps each message as SQS would get it, with its delay."""

    def __init__(self) -> None:
        self.sent: list[QueuedAttempt] = []
        self._lock = threading.Lock()

    def send(self, attempt: DeliveryAttempt, delay: float = 0) -> None:
        delay_seconds, due = sqs_delay(delay)
        with self._lock:
            self.sent.append(QueuedAttempt(attempt.model_copy(update={"not_before": due}), delay_seconds))
