from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.models.webhook import BatchStatusChange, WebhookQueueMessage
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.webhooks.delivery import attempt_delivery, fan_out

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)

processor = BatchProcessor(event_type=EventType.SQS, model=WebhookQueueMessage, raise_on_entire_batch_failure=False)


def record_handler(record: WebhookQueueMessage) -> None:
    message = record.body
    if isinstance(message, BatchStatusChange):
        logger.append_keys(batch_id=message.detail.id, tenant_id=message.detail.tenant_id)
        fan_out(STORES, message)
    else:
        logger.append_keys(tenant_id=message.tenant_id, endpoint_id=message.endpoint_id)
        attempt_delivery(STORES, SETTINGS, message)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
