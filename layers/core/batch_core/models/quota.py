"""A tenant's quotas and what its batches in progress hold of them."""

from enum import StrEnum

from pydantic import BaseModel, Field

# The reservations of a tenant's batches in progress share one record: about 100 bytes each in 400 KB.
MAX_BATCHES_IN_PROGRESS = 2_000


class QuotaName(StrEnum):
    BATCHES = "batches_in_progress"
    LINES = "enqueued_lines"
    TOKENS = "enqueued_tokens"


class TenantQuota(BaseModel):
    """Limits set for one tenant; None keeps the deployment's default."""

    batches_in_progress: int | None = Field(default=None, ge=0, le=MAX_BATCHES_IN_PROGRESS)
    enqueued_lines: int | None = Field(default=None, ge=0)
    enqueued_tokens: int | None = Field(default=None, ge=0)


class Reservation(BaseModel):
    """What one batch holds until it ends: its lines and estimated tokens (0 until prepare has counted a file
    batch's lines), or until `until`, past which it holds nothing even if its release was lost."""

    lines: int = 0
    tokens: int = 0
    until: int


class QuotaAmounts(BaseModel):
    """An amount of each quota: what is in use, a limit, or what a batch asks for."""

    batches_in_progress: int = 0
    enqueued_lines: int = 0
    enqueued_tokens: int = 0


class QuotaState(BaseModel):
    """The tenant's record: its own limits and the reservations of its batches in progress, by batch id."""

    limits: TenantQuota = Field(default_factory=TenantQuota)
    reservations: dict[str, Reservation] = Field(default_factory=dict)

    def live(self, now: float) -> dict[str, Reservation]:
        return {batch_id: held for batch_id, held in self.reservations.items() if held.until > now}

    def use(self, now: float, excluding: str | None = None) -> QuotaAmounts:
        held = [reservation for batch_id, reservation in self.live(now).items() if batch_id != excluding]
        return QuotaAmounts(
            batches_in_progress=len(held),
            enqueued_lines=sum(reservation.lines for reservation in held),
            enqueued_tokens=sum(reservation.tokens for reservation in held),
        )
