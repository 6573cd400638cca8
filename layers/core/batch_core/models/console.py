from typing import Any, Generic, Literal, TypeVar

from batch_core.models.batch import Batch, BatchStatus, FileRef, RequestCounts
from batch_core.models.item import Item
from batch_core.models.usage import Usage
from batch_core.models.view import CapacityWait, View, listed_errors
from batch_core.models.workflow import InputError

Listed = TypeVar("Listed", bound=View)


class ConsoleBatch(View):
    """A batch in the console's wire shape."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    model: str | None
    status: BatchStatus
    completion_window: str
    input_file: FileRef | None
    output_file: FileRef | None
    error_message: str | None
    errors: list[InputError]
    request_counts: RequestCounts
    waiting_for_capacity: CapacityWait | None
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
        return cls(
            id=batch.id,
            endpoint=batch.endpoint,
            model=batch.model,
            status=batch.status,
            completion_window=batch.completion_window,
            input_file=batch.input_file,
            output_file=output_file,
            error_message=batch.error_message,
            errors=listed_errors(batch),
            request_counts=batch.request_counts,
            waiting_for_capacity=CapacityWait.of(batch),
            usage=batch.usage,
            metadata=batch.metadata or {},
            created_at=batch.created_at,
            started_at=batch.started_at,
            completed_at=batch.completed_at,
            cancelled_at=batch.cancelled_at,
            cancelling_at=batch.cancelling_at,
            finalizing_at=batch.finalizing_at,
            failed_at=batch.failed_at,
            expired_at=batch.expired_at,
            expires_at=batch.expires_at,
        )


class ConsoleList(View, Generic[Listed]):
    object: Literal["list"] = "list"
    data: list[Listed]


class ConsoleBatchList(ConsoleList[ConsoleBatch]):
    """A page of batches; `nextCursor` (the console's name, as its files list has it) is the `cursor` of the next."""

    nextCursor: str | None  # noqa: N815


ConsoleItemList = ConsoleList[Item]
