from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.file_checks import check_file
from batch_core.models.file import FileCheckMessage
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)

processor = BatchProcessor(event_type=EventType.SQS, model=FileCheckMessage, raise_on_entire_batch_failure=False)


def record_handler(record: FileCheckMessage) -> None:
    logger.append_keys(file_id=record.body.file_id)
    check_file(STORES, SETTINGS, record.body.file_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
