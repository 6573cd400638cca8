"""The OpenAI surface's wire shapes, as the `openai` SDK reads them."""

from typing import Any, Literal

from pydantic import BaseModel

from batch_core.models.batch import Batch, BatchStatus
from batch_core.models.bounds import as_text
from batch_core.models.file import StoredFile, error_file_id, output_file_id


class OpenAIFile(BaseModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: Literal["processed"] = "processed"
    status_details: str | None = None
    expires_at: int | None = None

    @classmethod
    def of(cls, stored: StoredFile) -> "OpenAIFile":
        return cls(**stored.model_dump(exclude={"object"}))


class DeletedFile(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class OpenAIRequestCounts(BaseModel):
    total: int
    completed: int
    failed: int


class OpenAIUsage(BaseModel):
    input_tokens: int
    input_tokens_details: dict[str, int] = {"cached_tokens": 0}
    output_tokens: int
    output_tokens_details: dict[str, int] = {"reasoning_tokens": 0}
    total_tokens: int


class OpenAIErrors(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]


class OpenAIBatch(BaseModel):
    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    errors: OpenAIErrors | None
    input_file_id: str
    completion_window: str
    status: BatchStatus
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    in_progress_at: int | None
    expires_at: int
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    request_counts: OpenAIRequestCounts
    usage: OpenAIUsage
    metadata: dict[str, str] | None

    @classmethod
    def of(cls, batch: Batch) -> "OpenAIBatch":
        """Expired lines count as failed, as OpenAI counts them; cancelled lines are in neither count."""
        counts = batch.request_counts
        return cls(
            **batch.model_dump(include=_SHARED),
            errors=OpenAIErrors(data=batch.errors) if batch.errors else None,
            input_file_id=batch.input_file_id or "",
            output_file_id=output_file_id(batch.id) if batch.output_key else None,
            error_file_id=error_file_id(batch.id) if batch.error_key else None,
            in_progress_at=batch.started_at,
            request_counts=OpenAIRequestCounts(
                total=counts.total, completed=counts.completed, failed=counts.failed + counts.expired
            ),
            usage=OpenAIUsage(**batch.usage.model_dump()),
            metadata={key: as_text(item) for key, item in batch.metadata.items()} if batch.metadata else batch.metadata,
        )


_SHARED = {
    "id",
    "endpoint",
    "completion_window",
    "status",
    "created_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
}


class OpenAIList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Any]
    first_id: str | None
    last_id: str | None
    has_more: bool

    @classmethod
    def of(cls, data: list[Any], has_more: bool) -> "OpenAIList":
        return cls(
            data=data, first_id=data[0].id if data else None, last_id=data[-1].id if data else None, has_more=has_more
        )
