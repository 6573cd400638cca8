import re
from typing import Any, Literal, get_args

from pydantic import AliasChoices, BaseModel, Field, field_validator

from batch_core.models.bounds import ConsoleMetadata, Identifier, Name, OpenAIMetadata, echo
from batch_core.models.file import ExpiresAfter
from batch_core.models.status import TERMINAL, BatchStatus
from batch_core.models.usage import Usage

Endpoint = Literal["/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions", "/v1/moderations"]
ENDPOINTS: tuple[str, ...] = get_args(Endpoint)

_WINDOW = re.compile(r"^(\d{1,7})(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW_SECONDS = 7 * 86400


def window_seconds(window: str) -> int:
    """Seconds in a completion window such as "30m", "24h" or "7d"; ValueError if malformed."""
    match = _WINDOW.match(window)
    if not match:
        raise ValueError(f"completion_window '{echo(window)}' must look like '30m', '24h' or '7d'")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class FileRef(BaseModel):
    bucket_key: Name
    object_key: Name | None = None


class RequestCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.cancelled + self.expired


class BatchOptions(BaseModel):
    """What every create body holds, on both surfaces."""

    endpoint: str
    completion_window: str = "24h"
    metadata: dict[str, Any] | None = None
    # When the batch's output and error files expire, after they are made (by default with the batch).
    output_expires_after: ExpiresAfter | None = None

    @field_validator("endpoint")
    @classmethod
    def _known_endpoint(cls, value: str) -> str:
        if value not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        return value

    @field_validator("completion_window")
    @classmethod
    def _parsable_window(cls, value: str) -> str:
        if window_seconds(value) > MAX_WINDOW_SECONDS:
            raise ValueError("completion_window must be at most 7d")
        return value


class CreateBatchRequest(BatchOptions):
    """The console's create body; line contents are checked separately so errors can name the line."""

    metadata: ConsoleMetadata | None = None
    requests: list[Any] | None = None
    input_file: FileRef | None = None
    output_bucket_key: Name | None = None


class OpenAICreateBatch(BatchOptions):
    """The OpenAI surface's create body: the lines are in an uploaded file."""

    metadata: OpenAIMetadata | None = None
    input_file_id: Identifier


class Batch(BaseModel):
    """A batch as the core knows it; each surface shapes its own view of it.

    A batch made from a file or a bucket object reads only `input_key`, its own copy of the version of
    `source_key` (ETag `source_etag`) it was created from: prepare makes the copy before validating."""

    id: str
    tenant_id: str
    endpoint: Endpoint
    status: BatchStatus
    completion_window: str
    # The model its lines name (the first line's, if they name several), known once prepare has read them.
    model: str | None = None
    input_key: str
    source_key: str | None = None
    source_etag: str | None = None
    input_file: FileRef | None = None
    input_file_id: str | None = None
    # The client wrote the lines as a JSONL file, so each names its custom_id (records before the rename
    # hold `input_uploaded`).
    lines_from_file: bool = Field(default=False, validation_alias=AliasChoices("lines_from_file", "input_uploaded"))
    # Created on /v1: OpenAI's limits on requests and embedding inputs apply to its lines.
    openai_limits: bool = False
    # Seconds its output and error files are kept once made (None: as long as the batch's records).
    output_expires_after: int | None = None
    output_bucket_key: str | None = None
    output_object_key: str | None = None
    output_key: str | None = None
    error_key: str | None = None
    error_message: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    usage: Usage = Field(default_factory=Usage)
    metadata: dict[str, Any] | None = None
    units: int = 0
    unit_lines: int = 0
    # Units to a block (see models/assembly.py), fixed when the units are planned.
    block_units: int = 0
    cancel_swept: bool = False
    # Lines waiting for upstream capacity, and since when some have been (the first of them to wait).
    lines_waiting: int = 0
    waiting_since: int | None = None
    task_token: str | None = None
    created_at: int
    expires_at: int
    started_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def blocks(self) -> int:
        return -(-self.units // self.block_units) if self.block_units else 0

    def block_of(self, unit: int) -> int:
        return unit // self.block_units

    def units_of(self, block: int) -> range:
        """The units of block `block`."""
        first = block * self.block_units
        return range(first, min(first + self.block_units, self.units))

    @property
    def every_line_done(self) -> bool:
        return self.request_counts.done >= self.request_counts.total
