"""The OpenAI surface's wire shapes, as the `openai` SDK reads them."""

from typing import Generic, Literal, TypeVar

from batch_core.models.batch import Batch, BatchStatus
from batch_core.models.bounds import as_text
from batch_core.models.file import FileStatus, StoredFile, error_file_id, output_file_id
from batch_core.models.usage import Usage
from batch_core.models.view import CapacityWait, View, listed_errors
from batch_core.models.workflow import InputError


class OpenAIFile(View):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: FileStatus
    status_details: str | None = None
    expires_at: int | None = None

    @classmethod
    def of(cls, stored: StoredFile) -> "OpenAIFile":
        return cls(
            id=stored.id,
            bytes=stored.bytes,
            created_at=stored.created_at,
            filename=stored.filename,
            purpose=stored.purpose,
            status=stored.status,
            status_details=stored.status_details,
            expires_at=stored.expires_at,
        )


class DeletedFile(View):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class OpenAIRequestCounts(View):
    total: int
    completed: int
    failed: int


class InputTokensDetails(View):
    cached_tokens: int = 0


class OutputTokensDetails(View):
    reasoning_tokens: int = 0


class OpenAIUsage(View):
    input_tokens: int
    input_tokens_details: InputTokensDetails = InputTokensDetails()
    output_tokens: int
    output_tokens_details: OutputTokensDetails = OutputTokensDetails()
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> "OpenAIUsage":
        return cls(
            input_tokens=usage.input_tokens,
            input_tokens_details=InputTokensDetails(cached_tokens=usage.cached_tokens),
            output_tokens=usage.output_tokens,
            output_tokens_details=OutputTokensDetails(reasoning_tokens=usage.reasoning_tokens),
            total_tokens=usage.total_tokens,
        )


class OpenAIErrors(View):
    object: Literal["list"] = "list"
    data: list[InputError]


class OpenAIBatch(View):
    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    model: str | None
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
    waiting_for_capacity: CapacityWait | None
    usage: OpenAIUsage
    metadata: dict[str, str] | None

    @classmethod
    def of(cls, batch: Batch) -> "OpenAIBatch":
        """Expired lines count as failed, as OpenAI counts them; cancelled lines are in neither count."""
        counts = batch.request_counts
        return cls(
            id=batch.id,
            endpoint=batch.endpoint,
            model=batch.model,
            errors=OpenAIErrors(data=listed_errors(batch)) if batch.errors else None,
            input_file_id=batch.input_file_id or "",
            completion_window=batch.completion_window,
            status=batch.status,
            output_file_id=output_file_id(batch.id) if batch.output_key else None,
            error_file_id=error_file_id(batch.id) if batch.error_key else None,
            created_at=batch.created_at,
            in_progress_at=batch.started_at,
            expires_at=batch.expires_at,
            finalizing_at=batch.finalizing_at,
            completed_at=batch.completed_at,
            failed_at=batch.failed_at,
            expired_at=batch.expired_at,
            cancelling_at=batch.cancelling_at,
            cancelled_at=batch.cancelled_at,
            request_counts=OpenAIRequestCounts(
                total=counts.total, completed=counts.completed, failed=counts.failed + counts.expired
            ),
            waiting_for_capacity=CapacityWait.of(batch),
            usage=OpenAIUsage.of(batch.usage),
            metadata={key: as_text(item) for key, item in batch.metadata.items()} if batch.metadata else batch.metadata,
        )


Listed = TypeVar("Listed", OpenAIFile, OpenAIBatch)


class OpenAIList(View, Generic[Listed]):
    object: Literal["list"] = "list"
    data: list[Listed]
    first_id: str | None
    last_id: str | None
    has_more: bool

    @classmethod
    def of(cls, data: list[Listed], has_more: bool) -> "OpenAIList[Listed]":
        return cls(
            data=data, first_id=data[0].id if data else None, last_id=data[-1].id if data else None, has_more=has_more
        )
