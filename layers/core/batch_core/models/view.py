from pydantic import BaseModel, ConfigDict

from batch_core.models.batch import Batch
from batch_core.models.workflow import InputError


class View(BaseModel):
    """A response model: it names every field a client sees, and building it with any other field fails,
    so nothing a record adds internally can reach a client without a view naming it."""

    model_config = ConfigDict(extra="forbid")


class CapacityWait(View):
    """Lines held back for the upstream's rate limits: they keep their attempts and run when capacity returns
    (or end `expired` with the window); `since` is when the first of them began waiting."""

    lines: int
    since: int | None

    @classmethod
    def of(cls, batch: Batch) -> "CapacityWait | None":
        return cls(lines=batch.lines_waiting, since=batch.waiting_since) if batch.lines_waiting > 0 else None


def listed_errors(batch: Batch) -> list[InputError]:
    """The problems a failed batch lists (OpenAI's `errors.data` entries), each read field by field."""
    return [InputError.model_validate(error) for error in batch.errors]
