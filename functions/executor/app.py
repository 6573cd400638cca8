from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.dal.queue import delay_message
from batch_core.executor import run_work_unit
from batch_core.models.work_unit import WorkUnit
from batch_core.observability import logger, tracer
from batch_core.upstream import default_upstream

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RetryScheduled(Exception):
    """Reported as a batch item failure: the message stays queued and returns after its delay."""


def record_handler(record: SQSRecord) -> None:
    unit = WorkUnit.model_validate_json(record.body)
    logger.append_keys(batch_id=unit.batch_id, unit=unit.unit)
    delay = run_work_unit(unit, default_upstream())
    if delay is not None:
        delay_message(record.receipt_handle, delay)
        raise RetryScheduled(f"unit {unit.unit} runs again in {delay:.0f}s")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
