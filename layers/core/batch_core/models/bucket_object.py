from typing import Any

from pydantic import BaseModel, Field


class BucketObject(BaseModel):
    """A file in one of a tenant's console buckets, in the console's wire shape (camelCase, ISO times)."""

    id: str = Field(serialization_alias="_id")
    key: str
    bucketKey: str  # noqa: N815 - the console's field name
    fileName: str  # noqa: N815
    contentType: str  # noqa: N815
    size: int
    metadata: dict[str, Any] | None = None
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815


class UploadObjectRequest(BaseModel):
    fileName: str = Field(min_length=1, max_length=255)  # noqa: N815
    contentType: str | None = None  # noqa: N815
    data: str
    metadata: dict[str, Any] | None = None
    keyHint: str | None = None  # noqa: N815


class PresignUploadRequest(BaseModel):
    fileName: str = Field(min_length=1, max_length=255)  # noqa: N815
    contentType: str | None = None  # noqa: N815
    metadata: dict[str, Any] | None = None
    keyHint: str | None = None  # noqa: N815


class ObjectEnvelope(BaseModel):
    file: BucketObject


class PresignedUpload(BaseModel):
    file: BucketObject
    uploadUrl: str  # noqa: N815
    method: str = "PUT"
    headers: dict[str, str]


class ObjectList(BaseModel):
    files: list[BucketObject]
    count: int
    nextCursor: str | None  # noqa: N815


class DeletedObject(BaseModel):
    message: str = "deleted"
    bucketKey: str  # noqa: N815
    objectKey: str  # noqa: N815
