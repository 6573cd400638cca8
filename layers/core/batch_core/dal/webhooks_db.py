from itertools import islice
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.listing import read_items
from batch_core.models.webhook import WebhookDelivery, WebhookEndpoint
from batch_core.settings import Settings


class WebhookStore:
    """Tenants' webhook endpoints, and each endpoint's record of deliveries (kept for the retention period)."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self.retention_seconds = settings.retention_days * 86400
        self._aws = aws

    def put_endpoint(self, endpoint: WebhookEndpoint) -> None:
        item = {**keys.webhook_key(endpoint.tenant_id, endpoint.id), **endpoint.model_dump(mode="json")}
        try:
            self._dynamodb.put_item(TableName=self.table_name, Item=to_attributes(item))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not store webhook endpoint {endpoint.id}", exc) from exc

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self._read(keys.webhook_key(tenant_id, endpoint_id), f"webhook endpoint {endpoint_id}")
        return WebhookEndpoint.model_validate(item) if item else None

    def list_endpoints(self, tenant_id: str) -> list[WebhookEndpoint]:
        """A tenant's endpoints, oldest first (ids sort by creation time)."""
        query = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :partition",
            "ExpressionAttributeValues": {":partition": value(keys.tenant_webhooks_partition(tenant_id))},
        }
        items = read_items(self._dynamodb, query, f"the webhook endpoints of tenant {tenant_id}")
        return [WebhookEndpoint.model_validate(from_attributes(item)) for item in items]

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        """False when the tenant has no such endpoint."""
        deleted = conditional_write(
            lambda: self._dynamodb.delete_item(
                TableName=self.table_name,
                Key=to_attributes(keys.webhook_key(tenant_id, endpoint_id)),
                ConditionExpression="attribute_exists(pk)",
            ),
            f"delete webhook endpoint {endpoint_id}",
        )
        return deleted is not None

    def add_delivery(self, delivery: WebhookDelivery) -> bool:
        """Records a new delivery; False when the endpoint already has one for this event."""
        item = self._delivery_item(delivery)
        added = conditional_write(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name, Item=to_attributes(item), ConditionExpression="attribute_not_exists(pk)"
            ),
            f"record the delivery of {delivery.event.id} to {delivery.endpoint_id}",
        )
        return added is not None

    def get_delivery(self, endpoint_id: str, event_id: str) -> WebhookDelivery | None:
        item = self._read(keys.delivery_key(endpoint_id, event_id), f"the delivery of {event_id} to {endpoint_id}")
        return WebhookDelivery.model_validate(item) if item else None

    def record_attempt(self, delivery: WebhookDelivery, *, attempts_before: int) -> bool:
        """Stores the delivery after an attempt; False when another attempt was recorded first."""
        item = self._delivery_item(delivery)
        recorded = conditional_write(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_attributes(item),
                ConditionExpression="attempts = :before",
                ExpressionAttributeValues={":before": value(attempts_before)},
            ),
            f"record an attempt to deliver {delivery.event.id} to {delivery.endpoint_id}",
        )
        return recorded is not None

    def list_deliveries(
        self, endpoint_id: str, *, limit: int, before: str | None
    ) -> tuple[list[WebhookDelivery], bool]:
        """An endpoint's deliveries, newest first, below the event id `before` when given; and whether more follow."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :partition",
            "ExpressionAttributeValues": {":partition": value(keys.deliveries_partition(endpoint_id))},
            "ScanIndexForward": False,
        }
        if before:
            query["KeyConditionExpression"] += " AND sk < :before"
            query["ExpressionAttributeValues"][":before"] = value(keys.delivery_key(endpoint_id, before)["sk"])
        items = read_items(self._dynamodb, query, f"the deliveries of {endpoint_id}", page_size=limit + 1)
        deliveries = [WebhookDelivery.model_validate(from_attributes(item)) for item in islice(items, limit + 1)]
        return deliveries[:limit], len(deliveries) > limit

    def _read(self, key: dict[str, str], what: str) -> dict[str, Any] | None:
        try:
            answer = self._dynamodb.get_item(TableName=self.table_name, Key=to_attributes(key))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read {what}", exc) from exc
        return from_attributes(answer["Item"]) if "Item" in answer else None

    def _delivery_item(self, delivery: WebhookDelivery) -> dict[str, Any]:
        return {
            **keys.delivery_key(delivery.endpoint_id, delivery.event.id),
            **delivery.model_dump(mode="json"),
            "ttl": delivery.created_at + self.retention_seconds,
        }

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")
