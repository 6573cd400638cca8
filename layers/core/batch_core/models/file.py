from typing import Literal

from pydantic import BaseModel

FilePurpose = Literal["batch", "batch_output"]


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
