"""A tenant's webhook endpoints: registered with a checked url and a new secret, listed, deleted."""

import time

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput, WebhookNotFound
from batch_core.ids import new_id
from batch_core.models.webhook import CreateWebhookRequest, WebhookDelivery, WebhookEndpoint
from batch_core.pages import page_limit
from batch_core.settings import Settings
from batch_core.webhooks.addresses import checked_target
from batch_core.webhooks.signing import new_secret

MAX_DELIVERIES_PAGE = 100


def register_webhook(
    stores: Stores, settings: Settings, tenant_id: str, request: CreateWebhookRequest
) -> WebhookEndpoint:
    """Refuses a url that is not https or resolves to a non-public address (RefusedAddress), and more
    endpoints than a tenant may have."""
    checked_target(request.url, allow_loopback=settings.webhook_allow_loopback)
    if len(stores.webhooks.list_endpoints(tenant_id)) >= settings.max_webhooks_per_tenant:
        raise InvalidInput(
            f"a tenant may register {settings.max_webhooks_per_tenant} webhook endpoints; delete one first", param="url"
        )
    endpoint = WebhookEndpoint(
        id=new_id("wh_"),
        tenant_id=tenant_id,
        url=request.url,
        events=list(dict.fromkeys(request.events)),
        description=request.description,
        secret=new_secret(),
        created_at=int(time.time()),
    )
    stores.webhooks.put_endpoint(endpoint)
    return endpoint


def get_webhook(stores: Stores, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = stores.webhooks.get_endpoint(tenant_id, endpoint_id)
    if endpoint is None:
        raise WebhookNotFound(endpoint_id)
    return endpoint


def delete_webhook(stores: Stores, tenant_id: str, endpoint_id: str) -> None:
    """Its pending deliveries end failed at their next attempt; its record of deliveries expires with the retention."""
    if not stores.webhooks.delete_endpoint(tenant_id, endpoint_id):
        raise WebhookNotFound(endpoint_id)


def list_deliveries(
    stores: Stores, tenant_id: str, endpoint_id: str, *, limit: int, after: str | None
) -> tuple[list[WebhookDelivery], bool]:
    """An endpoint's deliveries, newest first; `after` (the last event id of a page) continues below it."""
    get_webhook(stores, tenant_id, endpoint_id)
    return stores.webhooks.list_deliveries(endpoint_id, limit=page_limit(limit, MAX_DELIVERIES_PAGE), before=after)
