from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def tenant_of(event: APIGatewayProxyEventV2) -> str:
    """The tenant the authorizer found for the request's API key."""
    return event.request_context.authorizer.get_lambda["tenant_id"]
