import json
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal.clients import client
from batch_core.errors import StorageError
from batch_core.observability import logger
from batch_core.settings import get_settings

CANCELLED_SIGNAL = "BatchCancelled"


def start_workflow(batch_id: str, payload: dict[str, Any]) -> None:
    """Starts the batch's state machine execution, named after the batch so a retry cannot start two."""
    try:
        client("stepfunctions").start_execution(
            stateMachineArn=get_settings().state_machine_arn, name=batch_id, input=json.dumps(payload)
        )
    except ClientError as exc:
        raise StorageError(f"could not start the workflow of batch {batch_id}") from exc


def signal_done(task_token: str) -> bool:
    """Wakes the waiting workflow; False when the token is stale (the watchdog then notices instead)."""
    return _send("send_task_success", taskToken=task_token, output="{}")


def signal_cancelled(task_token: str) -> bool:
    return _send("send_task_failure", taskToken=task_token, error=CANCELLED_SIGNAL, cause="cancel requested")


def _send(operation: str, **arguments: Any) -> bool:
    try:
        getattr(client("stepfunctions"), operation)(**arguments)
    except ClientError as exc:
        logger.info("workflow signal not delivered", extra={"reason": exc.response["Error"]["Code"]})
        return False
    return True
