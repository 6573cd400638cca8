from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.models.workflow import AwaitTask
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.workflow.signals import await_lines

STORES = Stores.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=AwaitTask)
def lambda_handler(task: AwaitTask, context: LambdaContext) -> None:
    logger.append_keys(batch_id=task.batch_id)
    await_lines(STORES, task.batch_id, task.task_token)
