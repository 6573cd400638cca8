from typing import Any, Literal

from batch_core.models.line import LineError, LineStatus
from batch_core.models.usage import Usage
from batch_core.models.view import View


class Item(View):
    """One line as the console's items route shows it."""

    id: str
    object: Literal["batch.item"] = "batch.item"
    index: int
    custom_id: str | None
    status: LineStatus
    response_status_code: int | None = None
    response_body: Any = None
    error_message: str | None = None
    usage: Usage | None = None
    started_at: int | None = None
    ended_at: int | None = None


class OutputResponse(View):
    status_code: int
    request_id: str | None
    body: Any


class OutputLine(View):
    """One line of results, output and error files, in OpenAI's batch output format."""

    id: str
    custom_id: str | None
    response: OutputResponse | None
    error: LineError | None
