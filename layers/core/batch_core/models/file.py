from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

FilePurpose = Literal["batch", "batch_output"]
# An uploaded input is "uploaded" until its check ends: "processed", or "error" naming its bad lines.
FileStatus = Literal["uploaded", "processed", "error"]


class ExpiresAfter(BaseModel):
    """When an uploaded file expires: `seconds` after its creation (OpenAI's bounds, 1 hour to 30 days)."""

    anchor: Literal["created_at"]
    seconds: int = Field(ge=3600, le=2_592_000)


class FileCheck(BaseModel):
    """What the check of an uploaded input found: its lines are valid input-file lines for `endpoint` (each with a
    unique custom id), so a batch made from this version of it (`etag`) for that endpoint cuts units without
    reading them again."""

    etag: str
    endpoint: str
    lines: int
    tokens: int
    model: str | None
    embedding_inputs: int


class FileToCheck(BaseModel):
    """A message of the file check queue."""

    file_id: str


class FileCheckMessage(SqsRecordModel):
    """A file check queue's SQS record."""

    body: Json[FileToCheck]  # type: ignore[assignment]


class StoredFile(BaseModel):
    """A file of the OpenAI surface: an uploaded batch input, or a batch's output or error file."""

    id: str
    tenant_id: str
    filename: str
    purpose: FilePurpose
    bytes: int
    created_at: int
    object_key: str
    expires_at: int | None = None
    status: FileStatus = "processed"
    status_details: str | None = None
    check: FileCheck | None = None


def input_file_id(batch_id: str) -> str:
    """The file ids of a batch's own files derive from its id, so finalize can run twice safely."""
    return "file-" + batch_id.removeprefix("batch_") + "-input"


def output_file_id(batch_id: str) -> str:
    return "file-" + batch_id.removeprefix("batch_") + "-output"


def error_file_id(batch_id: str) -> str:
    return "file-" + batch_id.removeprefix("batch_") + "-errors"
