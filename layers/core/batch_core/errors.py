from typing import Any

from batch_core.models.bounds import echo


class BatchError(Exception):
    """Base of the errors the core raises on purpose; handlers map them to HTTP answers."""


class InvalidInput(BatchError):
    """The request or an input line is wrong; the message names the line and the field. `code` is OpenAI's for a
    batch's input where it has one (`invalid_json_line`, `duplicate_custom_id`, `url_mismatch`, `empty_file`,
    `too_many_tasks`), else `invalid_input`."""

    def __init__(self, message: str, *, line: int | None = None, param: str | None = None, code: str = "invalid_input"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.param = param
        self.code = code
        # What it lists: itself, unless it gathers several lines.
        self.problems: list[InvalidInput] = [self]

    def as_error(self) -> dict[str, Any]:
        """The error object a failed batch lists (OpenAI's `errors.data` entry)."""
        return {"code": self.code, "message": self.message, "line": self.line, "param": self.param}


class InvalidLines(InvalidInput):
    """Lines of a batch are wrong: `problems` lists the first of them, `total` counts them all."""

    def __init__(self, problems: list[InvalidInput], total: int):
        listed = "; ".join(problem.message for problem in problems[:3]) + ("; …" if len(problems) > 3 else "")
        summary = problems[0].message if total == 1 else f"{listed} ({total} lines are invalid)"
        if total > len(problems):
            summary = f"{listed} ({total} lines are invalid; the first {len(problems)} are listed)"
        super().__init__(summary, line=problems[0].line, param=problems[0].param, code=problems[0].code)
        self.problems = problems
        self.total = total


class NotFound(BatchError):
    """What the caller named does not exist, or belongs to another tenant."""


class BatchNotFound(NotFound):
    def __init__(self, batch_id: str):
        super().__init__(f"Batch '{echo(batch_id)}' not found")


class FileNotFound(NotFound):
    def __init__(self, file_id: str):
        super().__init__(f"No file found with id '{echo(file_id)}'")


class ObjectNotFound(NotFound):
    def __init__(self, bucket: str, key: str):
        super().__init__(f"Object '{echo(key)}' not found in bucket '{echo(bucket)}'")


class BucketNotFound(NotFound):
    def __init__(self, bucket: str):
        super().__init__(f"Bucket '{echo(bucket)}' not found")


class UploadNotFound(NotFound):
    def __init__(self, upload_id: str):
        super().__init__(f"No upload found with id '{echo(upload_id)}'")


class InvalidTransition(BatchError):
    """The batch is not in a status that allows the requested change."""


class StorageError(BatchError):
    """An AWS call failed in a way the caller cannot fix; the workflow retries it.

    `unanswered` when AWS gave no answer at all (a timeout, a dropped connection): a write may then
    have happened or not, where an error answer means it did not."""

    def __init__(self, message: str, *, unanswered: bool = False):
        super().__init__(message)
        self.unanswered = unanswered


class AttemptUnfinished(BatchError):
    """A delivery came back to a unit whose attempt it had started and never ended (it crashed): a real
    failure, so the delivery returns after the attempt's lease and counts toward the dead-letter queue."""

    def __init__(self, unit: int, seconds: float):
        super().__init__(f"unit {unit}: this delivery's earlier attempt did not end; it runs again in {seconds:.0f}s")
        self.seconds = seconds


class WebhookNotFound(NotFound):
    def __init__(self, endpoint_id: str):
        super().__init__(f"Webhook endpoint '{echo(endpoint_id)}' not found")


class QuotaExceeded(InvalidInput):
    """A batch would take a tenant past one of its quotas: at create nothing is stored (HTTP 429); at prepare,
    once a file's lines are counted, the batch fails with this as its error."""

    def __init__(self, quota: str, limit: int, in_use: int, requested: int):
        super().__init__(
            f"quota {quota} exceeded: {in_use:,} in use of {limit:,} and this batch needs {requested:,}; "
            "try again once batches in progress have ended, or ask for a higher quota",
            param=quota,
            # OpenAI's code for a batch past its enqueued-token limit; the other quotas are this service's own.
            code="token_limit_exceeded" if quota == "enqueued_tokens" else "quota_exceeded",
        )
        self.quota, self.limit, self.in_use, self.requested = quota, limit, in_use, requested

    def details(self) -> dict[str, Any]:
        return {"name": self.quota, "limit": self.limit, "in_use": self.in_use, "requested": self.requested}
