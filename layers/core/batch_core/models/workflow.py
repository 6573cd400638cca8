"""The inputs the state machine hands its Lambda tasks."""

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, Field

from batch_core.errors import InvalidInput


class BatchTask(BaseModel):
    batch_id: str


class AwaitTask(BatchTask):
    task_token: str


class FinalizeTask(BatchTask):
    outcome: Literal["completed", "cancelled", "expired"]


class InputError(BaseModel):
    """One listed problem of a rejected input (OpenAI's `errors.data` entry)."""

    code: str = "invalid_input"
    message: str
    line: int | None = None
    param: str | None = None


class InputRejection(BaseModel):
    """Why prepare rejected the input: the summary, and the problems it lists (the first 100 bad lines)."""

    message: str
    line: int | None = None
    param: str | None = None
    errors: list[InputError] = Field(default_factory=list)

    @classmethod
    def of(cls, rejected: InvalidInput) -> "InputRejection":
        return cls(
            message=rejected.message,
            line=rejected.line,
            param=rejected.param,
            errors=[InputError.model_validate(problem.as_error()) for problem in rejected.problems],
        )


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
