"""OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`."""

import re
from collections.abc import Mapping

from batch_core.models.limit import RateHeaders

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def rate_headers(headers: Mapping[str, str]) -> RateHeaders | None:
    """The answer's rate-limit headers, or None when it has none."""
    found = {
        f"{part}_{kind}": parse(headers.get(f"x-ratelimit-{part}-{kind}"))
        for part in ("limit", "remaining", "reset")
        for kind in ("requests", "tokens")
    }
    if all(number is None for number in found.values()):
        return None
    return RateHeaders(**found)


def parse(text: str | None) -> float | None:
    """A count ("1200"), or a duration ("1s", "6m0s", "20ms"), in seconds; None when unreadable."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
