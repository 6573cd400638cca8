from typing import Any

from pydantic import BaseModel, Field

from batch_core.models.bounds import MAX_NAME_CHARS, Name, ObjectMetadata
from batch_core.models.view import View


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


class PresignUploadRequest(BaseModel):
    fileName: str = Field(min_length=1, max_length=MAX_NAME_CHARS)  # noqa: N815
    contentType: Name | None = None  # noqa: N815
    metadata: ObjectMetadata | None = None
    keyHint: Name | None = None  # noqa: N815


class UploadObjectRequest(PresignUploadRequest):
    data: str


class ObjectEnvelope(View):
    file: BucketObject


class PresignedUpload(View):
    file: BucketObject
    uploadUrl: str  # noqa: N815
    method: str = "PUT"
    headers: dict[str, str]


class Bucket(BaseModel):
    """A tenant's bucket in the console's wire shape; it exists from its first object on."""

    id: str = Field(serialization_alias="_id")
    key: str
    name: str
    provider: str = "s3"
    status: str = "active"
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815


class BucketEnvelope(View):
    bucket: Bucket


class BucketList(View):
    buckets: list[Bucket]
    count: int


class ObjectList(View):
    files: list[BucketObject]
    count: int
    nextCursor: str | None  # noqa: N815


class DeletedObject(View):
    message: str = "deleted"
    bucketKey: str  # noqa: N815
    objectKey: str  # noqa: N815
