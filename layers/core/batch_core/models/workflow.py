"""The inputs the state machine hands its Lambda tasks."""

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel


class BatchTask(BaseModel):
    batch_id: str


class AwaitTask(BatchTask):
    task_token: str


class FinalizeTask(BatchTask):
    outcome: Literal["completed", "cancelled", "expired"]


class InputRejection(BaseModel):
    message: str
    line: int | None = None
    param: str | None = None


class TaskFailure(BaseModel):
    """What a Catch hands on: the error name and its cause."""

    Error: str
    Cause: str | None = None


class MarkFailedTask(BatchTask):
    rejection: InputRejection | None = None
    failure: TaskFailure | None = None


class ExecutionEnded(BaseModel):
    """The detail of Step Functions' "Execution Status Change" event; the execution is named after its batch."""

    name: str
    status: str
    error: str | None = None
    cause: str | None = None


class ExecutionEndedEvent(EventBridgeModel):
    detail: ExecutionEnded
