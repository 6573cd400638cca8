from typing import Literal

from pydantic import BaseModel, Field

FilePurpose = Literal["batch", "batch_output"]


class ExpiresAfter(BaseModel):
    """When an uploaded file expires: `seconds` after its creation (OpenAI's bounds, 1 hour to 30 days)."""

    anchor: Literal["created_at"]
    seconds: int = Field(ge=3600, le=2_592_000)


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


def input_file_id(batch_id: str) -> str:
    """The file ids of a batch's own files derive from its id, so finalize can run twice safely."""
    return "file-" + batch_id.removeprefix("batch_") + "-input"


def output_file_id(batch_id: str) -> str:
    return "file-" + batch_id.removeprefix("batch_") + "-output"


def error_file_id(batch_id: str) -> str:
    return "file-" + batch_id.removeprefix("batch_") + "-errors"
