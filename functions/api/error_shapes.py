"""The error answers of each surface, as the OpenAPI document shows them beside every route's own answer."""

from typing import Any

from pydantic import BaseModel


class ConsoleError(BaseModel):
    """The console's error: what was wrong; for rejected lines, each line's problem (`code`, `line`, `param`)."""

    error: str
    errors: list[dict[str, Any]] | None = None
    # On a 429: the quota passed, its limit, what is in use and what the batch asked for.
    quota: dict[str, Any] | None = None


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """OpenAI's error envelope."""

    error: OpenAIErrorDetail


_ERRORS = {
    400: "the request or a line is invalid; the message names the field (and the line)",
    401: "no API key, or one that is unknown or revoked",
    404: "no such batch, file, upload, object or endpoint for this tenant",
    409: "an Idempotency-Key reused with another body, or still in progress",
    500: "the service could not complete the request; try again",
}


_QUOTA = {429: "the batch would pass one of the tenant's quotas; the message names it and what is in use"}


def answers(shape: type[BaseModel], success: int = 200, more: dict[int, str] | None = None) -> dict[int, Any]:
    """A route's answers: its own model on `success` (read from its return type), `shape` on every error."""
    described: dict[int, Any] = {success: {"description": "Created" if success == 201 else "OK"}}
    for status, description in sorted({**_ERRORS, **(more or {})}.items()):
        described[status] = {"description": description, "content": {"application/json": {"model": shape}}}
    return described


CONSOLE = answers(ConsoleError)
CONSOLE_CREATED = answers(ConsoleError, 201)
CONSOLE_BATCH_CREATED = answers(ConsoleError, 201, _QUOTA)
OPENAI = answers(OpenAIError)
OPENAI_BATCH_CREATED = answers(OpenAIError, more=_QUOTA)
