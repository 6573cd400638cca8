from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from batch_core.models.status import UnitState


class WorkUnit(BaseModel):
    """An SQS message: a range of a batch's lines and where their bytes sit in the input object."""

    batch_id: str
    # The queue serves tenants fairly by it (the message group of an SQS fair queue); older units have none.
    tenant_id: str | None = None
    unit: int
    first: int
    count: int
    byte_start: int
    byte_end: int
    not_before: int | None = Field(default=None, description="a requeued message's due time, when beyond SQS's delay")

    @property
    def indexes(self) -> range:
        return range(self.first, self.first + self.count)


class UnitRecord(WorkUnit):
    """The progress of one work unit, as stored beside its batch."""

    state: UnitState = UnitState.PENDING
    attempt: int = 0
    lease_until: int = 0
    holder: str | None = None
    finished: set[int] = Field(default_factory=set)
    retries: dict[int, int] = Field(default_factory=dict)
    parts: list[str] = Field(default_factory=list)
    n_succeeded: int = 0
    n_failed: int = 0
    # Lines the last attempt held back for the upstream's capacity (not granted, or answered 429).
    waiting: int = 0

    @property
    def unfinished(self) -> list[int]:
        return [index for index in self.indexes if index not in self.finished]


class WorkUnitMessage(SqsRecordModel):
    """A work queue's SQS record, its body read as the work unit it carries."""

    body: Json[WorkUnit]  # type: ignore[assignment]
