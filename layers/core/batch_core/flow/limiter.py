"""The limiter's rules, on one route and model's state: what a take grants, what an attempt's report teaches.

Rates come from the route's limits where configured, else from what the upstream says (`x-ratelimit-limit-*`),
else they are learned: nothing is held back until the first sign of a limit (a 429, or the remaining
requests running out); a 429 then halves the rate seen, every clean report adds to it, and a `Retry-After`
pauses the whole route. A take may reserve HORIZON_SECONDS past an empty bucket: its lines start as their
share refills, so a unit's block of lines is taken with one write rather than one per line. The tenants
that asked lately share the rate equally: each also draws on a bucket of its own, refilled at its share."""

import math

from batch_core.models.limit import Grant, LimitState, Report
from batch_core.models.route import RouteLimits

BURST_SECONDS = 1.0
HORIZON_SECONDS = 2.0
ACTIVE_TENANT_SECONDS = 30.0
WINDOW_SECONDS = 10.0
RETRY_SECONDS = 0.5  # the least wait before asking again, so a crowded route is not polled in a loop
IN_FLIGHT_WAIT_SECONDS = 1.0
DECREASE = 0.5
INCREASE_RPM = 60.0
MIN_RPM = 6.0
# Lines start on a schedule, but reach the upstream a little early or late; pacing just under the limit
# leaves the upstream's own bucket the slack that absorbs it.
PACE_MARGIN = 0.95


def requests_per_minute(state: LimitState, limits: RouteLimits) -> float | None:
    limit = limits.requests_per_minute or state.learned_rpm
    return limit * PACE_MARGIN if limit else None


def tokens_per_minute(state: LimitState, limits: RouteLimits) -> float | None:
    limit = limits.tokens_per_minute or state.learned_tpm
    return limit * PACE_MARGIN if limit else None


def bounded(state: LimitState, limits: RouteLimits) -> bool:
    """Whether anything bounds the route: a rate configured or learned, or a cap on lines in flight. Takes from a
    route nothing bounds grant every line, and their writes only keep the record (the pace sent, the leases)."""
    return bool(requests_per_minute(state, limits) or tokens_per_minute(state, limits) or limits.max_in_flight)


def teaches(seen: Report) -> bool:
    """Whether a report carries what a limit is learned from: a refusal, or the upstream's rate-limit headers."""
    return bool(seen.throttled) or seen.headers is not None


def take(
    state: LimitState,
    limits: RouteLimits,
    now: float,
    estimates: list[int],
    *,
    tenant: str,
    holder: str,
    until: float,
) -> tuple[LimitState, Grant]:
    """Grants the first lines of `estimates` (each line's estimated tokens) that fit the route now or within
    the horizon; the state returned has them taken."""
    state = state.model_copy(deep=True)
    rpm, tpm = requests_per_minute(state, limits), tokens_per_minute(state, limits)
    _refill(state, now, rpm, tpm, max(estimates, default=0))
    state.leases = {name: lease for name, lease in state.leases.items() if lease[1] > now}
    state.tenants = {name: seen for name, seen in state.tenants.items() if seen > now - ACTIVE_TENANT_SECONDS}
    state.tenants[tenant] = now
    state.shares = {name: share for name, share in state.shares.items() if name in state.tenants}
    if state.paused_until > now:
        return state, Grant(count=0, wait=state.paused_until - now, reason="paused")
    count, reason = len(estimates), None
    offsets = [0.0] * count
    if limits.max_in_flight:
        room = limits.max_in_flight - sum(lease[0] for lease in state.leases.values())
        if room < count:
            count, reason = max(0, room), "in_flight"
    if rpm:
        per_second = rpm / 60
        fit = max(0, math.floor(state.requests + per_second * HORIZON_SECONDS + 1e-9))
        if fit < count:
            count, reason = fit, "requests"
        for n in range(count):
            offsets[n] = max(offsets[n], (n + 1 - state.requests) / per_second)
    if tpm:
        per_second, used = tpm / 60, 0
        for n in range(count):
            used += estimates[n]
            if state.tokens - used < -per_second * HORIZON_SECONDS:
                count, reason = n, "tokens"
                break
            offsets[n] = max(offsets[n], (used - state.tokens) / per_second)
    if rpm:
        count, reason = _within_share(state, tenant, now, rpm, count, reason, offsets)
    state.requests -= count if rpm else 0
    state.tokens -= sum(estimates[:count]) if tpm else 0
    if count:
        held = state.leases.get(holder, (0, until))[0]
        state.leases[holder] = (held + count, until)
    if now - state.window_start > WINDOW_SECONDS:
        recent = now - state.window_start <= 2 * WINDOW_SECONDS
        state.window_previous = state.window_sent if recent else 0
        state.window_start, state.window_sent = now, 0
    state.window_sent += count
    grant = Grant(
        count=count,
        offsets=[max(0.0, offset) for offset in offsets[:count]],
        bounded=bounded(state, limits),
    )
    if count < len(estimates):
        grant.reason = reason
        grant.wait = max(RETRY_SECONDS, _wait_for_next(state, tenant, reason, rpm, tpm, estimates[count:]))
    return state, grant


def report(state: LimitState, limits: RouteLimits, now: float, holder: str, seen: Report) -> LimitState:
    """Ends the holder's lease and learns from what its calls saw."""
    state = state.model_copy(deep=True)
    state.leases.pop(holder, None)
    tpm = tokens_per_minute(state, limits)
    if tpm and seen.estimated_tokens:
        state.tokens = min(_capacity(tpm, 0), state.tokens + seen.estimated_tokens - seen.used_tokens)
    headers = seen.headers
    told_rpm = headers.limit_requests if headers else None
    if told_rpm and not limits.requests_per_minute:
        state.learned_rpm = told_rpm
    if headers and headers.limit_tokens and not limits.tokens_per_minute:
        state.learned_tpm = headers.limit_tokens
    if seen.throttled:
        state.paused_until = max(state.paused_until, now + (seen.retry_after or 1.0))
        if not limits.requests_per_minute and not told_rpm:
            state.learned_rpm = max(MIN_RPM, (state.learned_rpm or _sent_per_minute(state, now)) * DECREASE)
        return state
    exhausted = headers is not None and headers.remaining_requests == 0
    if exhausted:
        state.paused_until = max(state.paused_until, now + (headers.reset_requests or 1.0))
        if not limits.requests_per_minute and not told_rpm:
            state.learned_rpm = max(MIN_RPM, (state.learned_rpm or _sent_per_minute(state, now)) * DECREASE)
    elif seen.succeeded and state.learned_rpm and not limits.requests_per_minute and not told_rpm:
        state.learned_rpm += INCREASE_RPM
    return state


def _within_share(
    state: LimitState, tenant: str, now: float, rpm: float, count: int, reason: str | None, offsets: list[float]
) -> tuple[int, str | None]:
    """With several tenants asking, a tenant takes no more than its share of the rate (its own bucket)."""
    if len(state.tenants) < 2:
        state.shares.pop(tenant, None)
        return count, reason
    share = rpm / len(state.tenants)
    # A new share starts from its part of what the route has left: the tenant that had the route to itself
    # keeps no head start over the one that just arrived.
    level, at = state.shares.get(tenant, (min(_capacity(share, 0), state.requests / len(state.tenants)), now))
    level = min(_capacity(share, 0), level + (now - at) * share / 60)
    fit = max(0, math.floor(level + share / 60 * HORIZON_SECONDS + 1e-9))
    if fit < count:
        count, reason = fit, "share"
    for n in range(count):
        offsets[n] = max(offsets[n], (n + 1 - level) / (share / 60))
    state.shares[tenant] = (level - count, now)
    return count, reason


def _capacity(per_minute: float, least: float) -> float:
    return max(1.0, least, per_minute / 60 * BURST_SECONDS)


def _refill(state: LimitState, now: float, rpm: float | None, tpm: float | None, largest: int) -> None:
    elapsed = now - state.at if state.at else math.inf
    if rpm:
        state.requests = min(_capacity(rpm, 0), state.requests + elapsed * rpm / 60)
    if tpm:
        state.tokens = min(_capacity(tpm, largest), state.tokens + elapsed * tpm / 60)
    state.at = now


def _wait_for_next(
    state: LimitState, tenant: str, reason: str | None, rpm: float | None, tpm: float | None, rest: list[int]
) -> float:
    """When the lines held back fit the horizon: asking again before then would only be refused."""
    if reason == "requests" and rpm:
        return (len(rest) - rpm / 60 * HORIZON_SECONDS - state.requests) / (rpm / 60)
    if reason == "tokens" and tpm:
        return (sum(rest) - tpm / 60 * HORIZON_SECONDS - state.tokens) / (tpm / 60)
    if reason == "share" and rpm:
        share = rpm / len(state.tenants) / 60
        level = state.shares[tenant][0]
        return (len(rest) - share * HORIZON_SECONDS - level) / share
    return IN_FLIGHT_WAIT_SECONDS


def _sent_per_minute(state: LimitState, now: float) -> float:
    """The pace sent lately, the starting point of a learned rate."""
    elapsed = now - state.window_start
    if state.window_previous:
        return (state.window_previous + state.window_sent) / (WINDOW_SECONDS + elapsed) * 60
    return state.window_sent / max(1.0, elapsed) * 60
