from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from batch_core.models.assembly import BlockChange
from batch_core.models.line import LineStatus
from batch_core.models.status import UnitState
from batch_core.models.usage import Usage

# The status of a line that has no output, by its unit's state.
_UNRUN_STATUS: dict[UnitState, LineStatus] = {
    UnitState.PENDING: "pending",
    UnitState.RUNNING: "running",
    UnitState.CANCELLED: "cancelled",
    UnitState.EXPIRED: "expired",
}


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
    # The objects of the attempts that finished lines, each holding those lines' outputs.
    outputs: list[str] = Field(default_factory=list)
    n_succeeded: int = 0
    n_failed: int = 0
    # Lines the last attempt held back for the upstream's capacity (not granted, or answered 429).
    waiting: int = 0

    @property
    def unfinished(self) -> list[int]:
        return [index for index in self.indexes if index not in self.finished]

    @property
    def unrun_status(self) -> LineStatus:
        """The status of its lines that have no output."""
        return _UNRUN_STATUS.get(self.state, "pending")

    def lines_in(self, status: str) -> int:
        """How many of its lines are in `status`."""
        if status == "succeeded":
            return self.n_succeeded
        if status == "failed":
            return self.n_failed
        unrun = self.count - self.n_succeeded - self.n_failed
        return unrun if self.unrun_status == status else 0


class AttemptRecord(BaseModel):
    """What an attempt writes when it ends, in one transaction: the lines it finished ("succeeded" or "failed" by
    index) and the object holding their outputs, the retries its other lines have spent, the tokens of the lines
    that succeeded, its lines held back for capacity, and what it adds to its unit's block."""

    finished: dict[int, str] = Field(default_factory=dict)
    outputs_key: str | None = None
    retries: dict[int, int] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    waiting: int = 0
    block: BlockChange


class WorkUnitMessage(SqsRecordModel):
    """A work queue's SQS record, its body read as the work unit it carries."""

    body: Json[WorkUnit]  # type: ignore[assignment]
