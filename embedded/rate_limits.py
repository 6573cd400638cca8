"""The simulator's rate limits, as OpenAI applies them: requests and tokens per minute per model, each a
bucket that refills continuously and holds one second's worth, so a burst past the pace is refused at once.
A refused request gets 429 with `retry-after` (and `retry-after-ms`); every answer carries OpenAI's
`x-ratelimit-*` headers."""

import math
import threading
import time
from dataclasses import dataclass, field

_BURST_SECONDS = 1.0


@dataclass
class ModelLimit:
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None


def parse_limits(requests: str | None, tokens: str | None) -> dict[str, ModelLimit]:
    """`SIMULATOR_RPM` / `SIMULATOR_TPM`: a number for every model ("1200"), or per model
    ("gpt-4o-mini=1200,text-embedding-3-small=3000"; `*` names every other model)."""
    limits: dict[str, ModelLimit] = {}
    for text, kind in ((requests, "requests_per_minute"), (tokens, "tokens_per_minute")):
        for model, value in _entries(text or "", kind).items():
            setattr(limits.setdefault(model, ModelLimit()), kind, value)
    return limits


def _entries(text: str, kind: str) -> dict[str, float]:
    entries: dict[str, float] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        model, _, value = entry.rpartition("=")
        try:
            entries[model.strip() or "*"] = float(value)
        except ValueError:
            raise ValueError(f"simulator {kind}: '{entry}' is not a number or model=number") from None
    return entries


@dataclass
class _Bucket:
    per_minute: float
    level: float = field(init=False)
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_minute / 60 * _BURST_SECONDS)

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.per_minute / 60)
        self.at = now

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` is available (0 when it is)."""
        missing = min(amount, self.capacity) - self.level
        return max(0.0, missing * 60 / self.per_minute)

    def headers(self, kind: str) -> dict[str, str]:
        until_full = (self.capacity - self.level) * 60 / self.per_minute
        return {
            f"x-ratelimit-limit-{kind}": str(int(self.per_minute)),
            f"x-ratelimit-remaining-{kind}": str(max(0, math.floor(self.level))),
            f"x-ratelimit-reset-{kind}": f"{until_full:.3f}s",
        }


class RateLimiter:
    """Admits or refuses each request against its model's buckets; counts both."""

    def __init__(self, limits: dict[str, ModelLimit]):
        self._limits = limits
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()
        self.admitted = 0
        self.refused = 0

    def __bool__(self) -> bool:
        return bool(self._limits)

    def admit(self, model: str, tokens: int) -> tuple[bool, dict[str, str]]:
        """Whether the request may run now, and the headers its answer carries."""
        limit = self._limits.get(model) or self._limits.get("*")
        if limit is None:
            return True, {}
        wanted = {"requests": (limit.requests_per_minute, 1.0), "tokens": (limit.tokens_per_minute, float(tokens))}
        with self._lock:
            now = time.monotonic()
            buckets = {}
            for kind, (per_minute, _) in wanted.items():
                if per_minute:
                    bucket = self._buckets.setdefault((model, kind), _Bucket(per_minute))
                    bucket.refill(now)
                    buckets[kind] = bucket
            wait = max((bucket.wait_for(wanted[kind][1]) for kind, bucket in buckets.items()), default=0.0)
            if wait == 0:
                for kind, bucket in buckets.items():
                    bucket.level -= min(wanted[kind][1], bucket.capacity)
                self.admitted += 1
            else:
                self.refused += 1
            headers = {name: value for kind, bucket in buckets.items() for name, value in bucket.headers(kind).items()}
        if wait:
            headers["retry-after"] = str(max(1, math.ceil(wait)))
            headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
        return wait == 0, headers
