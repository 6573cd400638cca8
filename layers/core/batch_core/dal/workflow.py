import json
from typing import Any

from batch_core.dal.clients import AWS_ERRORS, AwsClients, error_code, storage_error
from batch_core.observability import logger
from batch_core.settings import Settings

CANCELLED_SIGNAL = "BatchCancelled"


class Workflow:
    """The batches' state machine: an execution per batch, named after it, and the signals that wake it."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.state_machine_arn = settings.state_machine_arn
        self._aws = aws

    def start(self, batch_id: str, payload: dict[str, Any]) -> None:
        """Starts the batch's execution, named after the batch so a retry cannot start two."""
        try:
            self._stepfunctions.start_execution(
                stateMachineArn=self.state_machine_arn, name=batch_id, input=json.dumps(payload)
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not start the workflow of batch {batch_id}", exc) from exc

    def signal_done(self, task_token: str) -> bool:
        """Wakes the waiting workflow; False when the token is stale (the watchdog then notices instead)."""
        return self._send("send_task_success", taskToken=task_token, output="{}")

    def signal_cancelled(self, task_token: str) -> bool:
        return self._send("send_task_failure", taskToken=task_token, error=CANCELLED_SIGNAL, cause="cancel requested")

    @property
    def _stepfunctions(self) -> Any:
        return self._aws.client("stepfunctions")

    def _send(self, operation: str, **arguments: Any) -> bool:
        try:
            getattr(self._stepfunctions, operation)(**arguments)
        except AWS_ERRORS as exc:
            # A signal that does not arrive costs only time: the watchdog reads the counters anyway.
            logger.info("workflow signal not delivered", extra={"reason": error_code(exc) or type(exc).__name__})
            return False
        return True
