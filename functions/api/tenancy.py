from typing import Any

from aws_lambda_powertools.event_handler import Request

from batch_core.observability import logger


def tenant(request: Request) -> str:
    """The tenant of the request, a dependency of every route: `tenant_id: Annotated[str, Depends(tenant)]`.
    The request's log lines carry it too."""
    tenant_id = tenant_of(request.resolved_event.raw_event)
    logger.append_keys(tenant_id=tenant_id)
    return tenant_id


def tenant_of(event: dict[str, Any]) -> str:
    """The tenant the authorizer found for the API key of the request (an HTTP API payload 2.0 event)."""
    return event["requestContext"]["authorizer"]["lambda"]["tenant_id"]
