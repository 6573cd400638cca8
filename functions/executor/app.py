import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.errors import AttemptUnfinished
from batch_core.executor import run_work_unit
from batch_core.models.work_unit import WorkUnitMessage
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings
from batch_core.upstream import Upstreams

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)
UPSTREAMS = Upstreams.from_settings(SETTINGS, STORES)

processor = BatchProcessor(event_type=EventType.SQS, model=WorkUnitMessage, raise_on_entire_batch_failure=False)


def record_handler(record: WorkUnitMessage, lambda_context: LambdaContext) -> None:
    """A unit that must run again later is queued anew and this message succeeds; only a raised error
    leaves the message to come back and count toward the dead-letter queue."""
    unit = record.body
    logger.append_keys(batch_id=unit.batch_id, unit=unit.unit, tenant_id=unit.tenant_id)
    deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000
    try:
        delay = run_work_unit(STORES, SETTINGS, unit, UPSTREAMS, delivery=record.messageId, deadline=deadline)
    except AttemptUnfinished as unfinished:
        STORES.queue.delay(record.receiptHandle, unfinished.seconds)
        raise
    if delay is not None:
        STORES.queue.requeue(unit, delay)
        logger.info("unit requeued", extra={"delay_seconds": round(delay)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
