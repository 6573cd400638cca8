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
    metadata: dict[str, Any]
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
        fields = batch.model_dump(exclude={"object", "metadata"})
        return cls(output_file=output_file, metadata=batch.metadata or {}, **fields)


class ConsoleList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Any]


class ConsoleBatchList(ConsoleList):
    """A page of batches; `nextCursor` (the console's name, as its files list has it) is the `cursor` of the next."""

    nextCursor: str | None  # noqa: N815
