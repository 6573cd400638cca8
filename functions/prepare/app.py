from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput
from batch_core.models.workflow import BatchTask, InputRejection
from batch_core.observability import logger, metrics, tracer
from batch_core.prepare import prepare_batch
from batch_core.settings import Settings

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=BatchTask)
def lambda_handler(task: BatchTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=task.batch_id)
    try:
        prepare_batch(STORES, SETTINGS, task.batch_id)
    except InvalidInput as rejected:
        logger.info("input rejected", extra={"reason": rejected.message})
        return {"outcome": "invalid", "rejection": InputRejection.of(rejected).model_dump()}
    return {"outcome": "ready"}
