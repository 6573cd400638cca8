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
