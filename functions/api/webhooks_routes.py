from typing import Annotated

import error_shapes
from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from once import answered_once
from runtime import SETTINGS, STORES
from tenancy import tenant

from batch_core.models.bounds import MAX_ID_CHARS
from batch_core.models.console import ConsoleList
from batch_core.models.webhook import (
    CreatedWebhook,
    CreateWebhookRequest,
    DeletedWebhook,
    DeliveryList,
    DeliveryView,
    WebhookView,
)
from batch_core.webhooks.endpoints import delete_webhook, get_webhook, list_deliveries, register_webhook

router = APIGatewayHttpRouter()
WEBHOOKS = "/api/client/v1/webhooks"


@router.post(WEBHOOKS, responses=error_shapes.CONSOLE_CREATED)
def handle_create_webhook(
    tenant_id: Annotated[str, Depends(tenant)], request: Annotated[CreateWebhookRequest, Body()]
) -> Response[CreatedWebhook]:
    created = answered_once(
        router,
        tenant_id,
        "console.webhooks.create",
        request.model_dump(mode="json"),
        CreatedWebhook,
        lambda: CreatedWebhook.of(register_webhook(STORES, SETTINGS, tenant_id, request)),
    )
    return Response(201, content_type="application/json", body=created)


@router.get(WEBHOOKS, responses=error_shapes.CONSOLE)
def handle_list_webhooks(tenant_id: Annotated[str, Depends(tenant)]) -> ConsoleList[WebhookView]:
    return ConsoleList[WebhookView](
        data=[WebhookView.of(endpoint) for endpoint in STORES.webhooks.list_endpoints(tenant_id)]
    )


@router.get(f"{WEBHOOKS}/<endpoint_id>", responses=error_shapes.CONSOLE)
def handle_get_webhook(tenant_id: Annotated[str, Depends(tenant)], endpoint_id: str) -> WebhookView:
    return WebhookView.of(get_webhook(STORES, tenant_id, endpoint_id))


@router.delete(f"{WEBHOOKS}/<endpoint_id>", responses=error_shapes.CONSOLE)
def handle_delete_webhook(tenant_id: Annotated[str, Depends(tenant)], endpoint_id: str) -> DeletedWebhook:
    delete_webhook(STORES, tenant_id, endpoint_id)
    return DeletedWebhook(id=endpoint_id)


@router.get(f"{WEBHOOKS}/<endpoint_id>/deliveries", responses=error_shapes.CONSOLE)
def handle_list_deliveries(
    tenant_id: Annotated[str, Depends(tenant)],
    endpoint_id: str,
    limit: Annotated[int, Query()] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
) -> DeliveryList:
    deliveries, has_more = list_deliveries(STORES, tenant_id, endpoint_id, limit=limit, after=cursor)
    next_cursor = deliveries[-1].event.id if has_more else None
    return DeliveryList(data=[DeliveryView.of(delivery) for delivery in deliveries], nextCursor=next_cursor)
