from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def tenant(request: Request) -> str:
    """The tenant of the request, a dependency of every route: `tenant_id: Annotated[str, Depends(tenant)]`."""
    return tenant_of(APIGatewayProxyEventV2(request.resolved_event.raw_event))


def tenant_of(event: APIGatewayProxyEventV2) -> str:
    """The tenant the authorizer found for the request's API key."""
    return event.request_context.authorizer.get_lambda["tenant_id"]
