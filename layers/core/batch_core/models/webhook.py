from datetime import datetime
from enum import StrEnum
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from batch_core.models.bounds import MAX_METADATA_VALUE_CHARS
from batch_core.models.console import ConsoleList
from batch_core.models.status import BatchStatus
from batch_core.models.view import View

MAX_URL_CHARS = 2048


class WebhookEventType(StrEnum):
    """OpenAI's names of the batch events a webhook endpoint can hear."""

    BATCH_COMPLETED = "batch.completed"
    BATCH_FAILED = "batch.failed"
    BATCH_CANCELLED = "batch.cancelled"
    BATCH_EXPIRED = "batch.expired"

    @classmethod
    def of(cls, status: BatchStatus) -> "WebhookEventType | None":
        """The event of a batch's status: only its endings have one."""
        return next((event for event in cls if event.value == f"batch.{status}"), None)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class CreateWebhookRequest(BaseModel):
    url: str = Field(max_length=MAX_URL_CHARS)
    events: list[WebhookEventType] = Field(default_factory=lambda: list(WebhookEventType), min_length=1)
    description: str | None = Field(default=None, max_length=MAX_METADATA_VALUE_CHARS)


class WebhookEndpoint(BaseModel):
    """A tenant's registered receiver, with the secret its deliveries are signed with."""

    id: str
    tenant_id: str
    url: str
    events: list[WebhookEventType]
    description: str | None = None
    secret: str
    created_at: int


class WebhookEvent(BaseModel):
    """The body a receiver gets: OpenAI's webhook event shape (`openai.types.webhooks`)."""

    id: str
    object: Literal["event"] = "event"
    type: WebhookEventType
    created_at: int
    data: dict[str, str]


class WebhookDelivery(BaseModel):
    """One event's delivery to one endpoint, as recorded for that endpoint (the event's id names it there)."""

    endpoint_id: str
    event: WebhookEvent
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    response_status: int | None = None
    error: str | None = None
    created_at: int
    last_attempt_at: int | None = None
    next_attempt_at: int | None = None


class DeliveryAttempt(BaseModel):
    """A webhook queue message: try a delivery (its `attempt`-th try) once `not_before` has passed."""

    tenant_id: str
    endpoint_id: str
    event_id: str
    attempt: int = Field(ge=1)
    not_before: int | None = None


class BatchStatusDetail(BaseModel):
    """What the webhooks read of a "Batch Status Change" event's detail (batch_core/lifecycle.py writes it)."""

    id: str
    tenant_id: str
    status: BatchStatus


class BatchStatusChange(BaseModel):
    """The bus's event as its rule puts it on the webhook queue; only the fields the webhooks read."""

    id: str
    time: datetime
    detail_type: Literal["Batch Status Change"] = Field(alias="detail-type")
    detail: BatchStatusDetail


class WebhookQueueMessage(SqsRecordModel):
    """A webhook queue's SQS record: a batch's status change (from the bus's rule) or a delivery attempt."""

    body: Json[BatchStatusChange | DeliveryAttempt]  # type: ignore[assignment]


class WebhookView(View):
    """An endpoint as listed: never its secret."""

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[WebhookEventType]
    description: str | None
    created_at: int

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "WebhookView":
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=endpoint.events,
            description=endpoint.description,
            created_at=endpoint.created_at,
        )


class CreatedWebhook(WebhookView):
    """The answer to a registration, the one answer that shows the secret."""

    secret: str

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "CreatedWebhook":
        return cls(**WebhookView.of(endpoint).model_dump(), secret=endpoint.secret)


class DeletedWebhook(View):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: Literal[True] = True


class DeliveryView(View):
    """A delivery as its endpoint's record lists it; `event_id` is the `webhook-id` its requests carried."""

    object: Literal["webhook_delivery"] = "webhook_delivery"
    event_id: str
    event_type: WebhookEventType
    batch_id: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    error: str | None
    created_at: int
    last_attempt_at: int | None
    next_attempt_at: int | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> "DeliveryView":
        return cls(
            event_id=delivery.event.id,
            event_type=delivery.event.type,
            batch_id=delivery.event.data["id"],
            status=delivery.status,
            attempts=delivery.attempts,
            response_status=delivery.response_status,
            error=delivery.error,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            next_attempt_at=delivery.next_attempt_at,
        )


class DeliveryList(ConsoleList[DeliveryView]):
    """A page of an endpoint's deliveries, newest first; `nextCursor` is the `cursor` of the next page."""

    nextCursor: str | None  # noqa: N815
