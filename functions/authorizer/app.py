from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerResponseV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.auth import authenticate
from batch_core.dal.stores import Stores
from batch_core.observability import logger, metrics
from batch_core.settings import Settings

STORES = Stores.from_settings(Settings())


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict[str, Any]:
    tenant_id = authenticate(STORES, event.headers.get("authorization"))
    if tenant_id is None:
        # API Gateway answers this exact message with 401 instead of 403.
        raise Exception("Unauthorized")
    return APIGatewayAuthorizerResponseV2(authorize=True, context={"tenant_id": tenant_id}).asdict()
