from typing import Any, Literal

from pydantic import BaseModel

from batch_core.models.batch import Batch, BatchStatus, FileRef, RequestCounts
from batch_core.models.usage import Usage


class ConsoleBatch(BaseModel):
    """A batch in the console's wire shape."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    status: BatchStatus
    completion_window: str
    input_file: FileRef | None
    output_file: FileRef | None
    error_message: str | None
    errors: list[dict[str, Any]]
    request_counts: RequestCounts
    usage: Usage
    metadata: dict[str, str] | None
    created_at: int
    started_at: int | None
    completed_at: int | None
    cancelled_at: int | None
    cancelling_at: int | None
    finalizing_at: int | None
    failed_at: int | None
    expired_at: int | None
    expires_at: int

    @classmethod
    def of(cls, batch: Batch) -> "ConsoleBatch":
        output_file = None
        if batch.output_bucket_key:
            output_file = FileRef(bucket_key=batch.output_bucket_key, object_key=batch.output_object_key)
        return cls(output_file=output_file, **batch.model_dump(exclude={"object"}))


class ConsoleList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Any]
