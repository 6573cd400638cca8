"""The shared limiter's record for one route and model, and what a take grants."""

from pydantic import BaseModel, Field


class RateHeaders(BaseModel):
    """OpenAI's `x-ratelimit-*` headers of one answer, in requests/tokens and seconds."""

    limit_requests: float | None = None
    remaining_requests: float | None = None
    reset_requests: float | None = None
    limit_tokens: float | None = None
    remaining_tokens: float | None = None
    reset_tokens: float | None = None


class LimitState(BaseModel):
    """Buckets of requests and tokens that refill at the route's rate and hold one second's worth; a take may
    reserve a little past empty (the level goes below zero) and its lines start when their share refills.

    `learned_rpm`/`learned_tpm` stand in for limits the route does not configure (None: none seen yet);
    `leases` are the requests in flight per holder (an attempt) until their deadline; `tenants` are the
    tenants that asked lately, which share the route, each with its own bucket of requests (`shares`: level,
    refilled at) refilling at its share of the rate; `window_*` count what was sent in the current and the
    previous ten seconds."""

    requests: float = 0.0
    tokens: float = 0.0
    at: float = 0.0
    paused_until: float = 0.0
    learned_rpm: float | None = None
    learned_tpm: float | None = None
    leases: dict[str, tuple[int, float]] = Field(default_factory=dict)
    tenants: dict[str, float] = Field(default_factory=dict)
    shares: dict[str, tuple[float, float]] = Field(default_factory=dict)
    window_start: float = 0.0
    window_sent: int = 0
    window_previous: int = 0


class Grant(BaseModel):
    """How many of the asked lines may run (the first `count`), each starting `offsets[i]` seconds from now;
    `wait` is when to ask again for the rest, `reason` why they were held back; `bounded` whether any limit bore
    on the route (a grant none bore on holds even when its write is lost)."""

    count: int
    offsets: list[float] = Field(default_factory=list)
    wait: float = 0.0
    reason: str | None = None
    bounded: bool = True


class Report(BaseModel):
    """What an attempt's calls on a route saw, for the limiter to learn from."""

    sent: int = 0
    succeeded: int = 0
    throttled: int = 0
    retry_after: float | None = None
    estimated_tokens: int = 0
    used_tokens: int = 0
    headers: RateHeaders | None = None
