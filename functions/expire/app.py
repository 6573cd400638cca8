from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.models.workflow import BatchTask
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.workflow.decisions import expire_batch

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=BatchTask)
def lambda_handler(task: BatchTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=task.batch_id)
    closed = expire_batch(STORES, SETTINGS, task.batch_id)
    logger.info("expired", extra={"units_closed": closed})
    return {"units_closed": closed}
