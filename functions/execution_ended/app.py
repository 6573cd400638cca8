from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.errors import BatchNotFound
from batch_core.models.workflow import ExecutionEndedEvent
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.workflow.decisions import mark_failed

STORES = Stores.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ExecutionEndedEvent)
def lambda_handler(event: ExecutionEndedEvent, context: LambdaContext) -> dict[str, Any]:
    """An execution that failed, timed out or was stopped outside the workflow's own Catch (say, at Step
    Functions' history limit, or a MarkFailed that could not write) must not leave its batch running."""
    ended = event.detail
    logger.append_keys(batch_id=ended.name)
    try:
        status = mark_failed(
            STORES, ended.name, f"the batch's workflow ended {ended.status.lower()}; no further lines will run"
        )
    except BatchNotFound:
        # Not a batch's execution, or its record has expired: nothing to end, and nothing to retry for a day.
        return {"status": "missing"}
    logger.info("workflow ended", extra={"execution_status": ended.status, "error": ended.error, "status": status})
    return {"status": status}
