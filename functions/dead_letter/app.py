from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.stores import Stores
from batch_core.executor import fail_work_unit
from batch_core.models.work_unit import WorkUnitMessage
from batch_core.observability import logger, metrics, tracer
from batch_core.settings import Settings

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)

processor = BatchProcessor(event_type=EventType.SQS, model=WorkUnitMessage, raise_on_entire_batch_failure=False)


def record_handler(record: WorkUnitMessage) -> None:
    unit = record.body
    logger.append_keys(batch_id=unit.batch_id, unit=unit.unit, tenant_id=unit.tenant_id)
    receives = record.attributes.ApproximateReceiveCount
    logger.warning("work unit dead-lettered", extra={"receives": receives})
    fail_work_unit(
        STORES,
        SETTINGS,
        unit,
        f"the work unit failed {receives} deliveries and was set aside; its lines did not finish",
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
