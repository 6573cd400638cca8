from typing import Literal

from pydantic import BaseModel

from batch_core.models.openai import OpenAIFile

UploadStatus = Literal["pending", "completed", "cancelled", "expired"]


class Upload(BaseModel):
    """An OpenAI Upload: a file sent in parts, each small enough for one API request."""

    id: str
    tenant_id: str
    filename: str
    purpose: str
    bytes: int
    mime_type: str
    status: UploadStatus = "pending"
    created_at: int
    expires_at: int
    file_id: str | None = None


class CreateUploadRequest(BaseModel):
    filename: str
    purpose: str
    bytes: int
    mime_type: str


class CompleteUploadRequest(BaseModel):
    part_ids: list[str]
    md5: str | None = None


class OpenAIUpload(BaseModel):
    id: str
    object: Literal["upload"] = "upload"
    bytes: int
    created_at: int
    expires_at: int
    filename: str
    purpose: str
    status: UploadStatus
    file: OpenAIFile | None = None


class OpenAIUploadPart(BaseModel):
    id: str
    object: Literal["upload.part"] = "upload.part"
    created_at: int
    upload_id: str
