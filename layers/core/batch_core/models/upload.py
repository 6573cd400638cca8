from typing import Literal

from pydantic import BaseModel, Field

from batch_core.models.bounds import Identifier, Name
from batch_core.models.file import ExpiresAfter
from batch_core.models.openai import OpenAIFile
from batch_core.models.view import View

MAX_UPLOAD_PARTS = 10_000
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
    # How long the file it becomes is kept (its `expires_after`); None for the retention period.
    file_expires_after: int | None = None


class CreateUploadRequest(BaseModel):
    filename: Name
    purpose: Identifier
    bytes: int
    mime_type: Name
    expires_after: ExpiresAfter | None = None


class CompleteUploadRequest(BaseModel):
    """An upload's parts are at most a Lambda request each, so 10,000 of them hold far more than its 8 GB."""

    part_ids: list[Identifier] = Field(max_length=MAX_UPLOAD_PARTS)
    md5: Identifier | None = None


class OpenAIUpload(View):
    id: str
    object: Literal["upload"] = "upload"
    bytes: int
    created_at: int
    expires_at: int
    filename: str
    purpose: str
    status: UploadStatus
    file: OpenAIFile | None = None

    @classmethod
    def of(cls, upload: Upload, file: OpenAIFile | None = None) -> "OpenAIUpload":
        return cls(
            id=upload.id,
            bytes=upload.bytes,
            created_at=upload.created_at,
            expires_at=upload.expires_at,
            filename=upload.filename,
            purpose=upload.purpose,
            status=upload.status,
            file=file,
        )


class OpenAIUploadPart(View):
    id: str
    object: Literal["upload.part"] = "upload.part"
    created_at: int
    upload_id: str
