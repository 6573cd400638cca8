from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.models.workflow import MarkFailedTask
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.workflow.decisions import mark_failed

STORES = Stores.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=MarkFailedTask)
def lambda_handler(task: MarkFailedTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=task.batch_id)
    if task.rejection:
        status = mark_failed(
            STORES, task.batch_id, task.rejection.message, [error.model_dump() for error in task.rejection.errors]
        )
        return {"status": status}
    logger.error("batch workflow failed", extra={"failure": task.failure.model_dump() if task.failure else None})
    status = mark_failed(STORES, task.batch_id, "the batch failed on an internal error; no further lines will run")
    return {"status": status}
