import hashlib
from typing import Any, Literal

from pydantic import BaseModel

from batch_core.models.usage import Usage

LineStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "expired"]


class RequestLine(BaseModel):
    """One request line of a batch input, as stored in the input JSONL."""

    custom_id: str | None = None
    method: Literal["POST"] = "POST"
    url: str
    body: dict[str, Any]


class LineError(BaseModel):
    code: str
    message: str


class LineResult(BaseModel):
    """What one run of a line produced; stored in the work unit's output object."""

    index: int
    custom_id: str | None
    status: Literal["succeeded", "failed"]
    status_code: int | None = None
    request_id: str | None = None
    body: Any = None
    error: LineError | None = None
    usage: Usage | None = None
    started_at: int
    ended_at: int


class OutputHeader(BaseModel):
    """What an attempt stores of a line it ran besides the line's final form: what the items route shows."""

    index: int
    status: Literal["succeeded", "failed"]
    started_at: int
    ended_at: int
    usage: Usage | None = None


def line_id(batch_id: str, index: int) -> str:
    """A line's output id: stable, so a line run twice still reports one id."""
    return "batch_req_" + hashlib.sha256(f"{batch_id}:{index}".encode()).hexdigest()[:24]


# What a line that never ran reports as its error, by its status.
UNRUN_ERRORS = {
    "cancelled": LineError(code="batch_cancelled", message="The batch was cancelled before this request ran."),
    "expired": LineError(
        code="batch_expired", message="This request could not be executed before the completion window expired."
    ),
}
