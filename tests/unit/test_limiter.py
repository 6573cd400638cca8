"""The shared limiter's rules: blocks of capacity, a schedule inside the horizon, pauses and learned rates."""

import pytest

from batch_core.flow import limiter
from batch_core.flow.estimate import counted_tokens, estimated_tokens
from batch_core.flow.headers import parse, rate_headers
from batch_core.models.limit import Grant, LimitState, RateHeaders, Report
from batch_core.models.route import RouteLimits
from batch_core.models.usage import Usage

NOW = 1_000_000.0
PER_SECOND_20 = RouteLimits(requests_per_minute=1200)
PACED = 20 * limiter.PACE_MARGIN  # 19 a second: a burst of 19, and 38 more within the horizon


def take(
    state: LimitState, limits: RouteLimits, lines: int, tokens: int = 10, now: float = NOW
) -> tuple[LimitState, Grant]:
    return limiter.take(state, limits, now, [tokens] * lines, tenant="t", holder="h", until=NOW + 100)


def test_a_block_takes_the_burst_at_once_and_schedules_the_rest_inside_the_horizon() -> None:
    state, grant = take(LimitState(), PER_SECOND_20, 50)

    assert grant.count == 50 and grant.wait == 0
    assert grant.offsets[:19] == [0.0] * 19
    assert grant.offsets[19:22] == pytest.approx([1 / PACED, 2 / PACED, 3 / PACED])
    assert grant.offsets[-1] == pytest.approx(31 / PACED)
    assert state.requests == pytest.approx(PACED - 50)


def test_the_next_block_gets_what_the_horizon_leaves_and_is_told_when_the_rest_fits() -> None:
    state, _ = take(LimitState(), PER_SECOND_20, 50)

    _, grant = take(state, PER_SECOND_20, 50)

    assert (grant.count, grant.reason) == (7, "requests")
    assert grant.wait == pytest.approx(43 / PACED)


def test_capacity_refills_at_the_rate_and_no_further_than_the_burst() -> None:
    state, _ = take(LimitState(), PER_SECOND_20, 20)

    refilled, grant = take(state, PER_SECOND_20, 100, now=NOW + 60)

    assert grant.count == 57 and refilled.requests == pytest.approx(PACED - 57)


def test_a_paused_route_grants_nothing_until_the_pause_ends() -> None:
    state = limiter.report(LimitState(), PER_SECOND_20, NOW, "h", Report(sent=1, throttled=1, retry_after=7))

    _, grant = take(state, PER_SECOND_20, 5, now=NOW + 2)

    assert (grant.count, grant.reason, grant.wait) == (0, "paused", pytest.approx(5))


def test_tokens_per_minute_cut_the_block_by_the_lines_estimates() -> None:
    limits = RouteLimits(tokens_per_minute=60_000)  # paced at 950 a second: a burst of 950 and 1,900 ahead

    _, grant = take(LimitState(), limits, 10, tokens=400)

    assert (grant.count, grant.reason) == (7, "tokens")
    assert grant.offsets[:2] == [0.0, 0.0] and grant.offsets[2] == pytest.approx(250 / 950)


def test_in_flight_leases_bound_the_block_and_end_with_their_report() -> None:
    limits = RouteLimits(max_in_flight=8)
    state, first = take(LimitState(), limits, 5)

    state, second = limiter.take(state, limits, NOW, [1] * 5, tenant="t", holder="other", until=NOW + 100)
    released = limiter.report(state, limits, NOW, "h", Report(sent=5, succeeded=5))
    _, third = limiter.take(released, limits, NOW, [1] * 5, tenant="t", holder="third", until=NOW + 100)

    assert (first.count, second.count, second.reason, third.count) == (5, 3, "in_flight", 5)


def test_without_a_configured_limit_nothing_is_held_until_the_upstream_says_its_limit() -> None:
    state, grant = take(LimitState(), RouteLimits(), 200)
    told = RateHeaders(limit_requests=600, remaining_requests=3)

    learned = limiter.report(state, RouteLimits(), NOW, "h", Report(sent=200, succeeded=200, headers=told))
    _, limited = take(learned, RouteLimits(), 100, now=NOW + 1)

    assert grant.count == 200
    assert learned.learned_rpm == 600
    assert limited.count == 28  # paced at 9.5 a second: a burst of 9.5 and 19 ahead


def test_a_429_without_headers_halves_the_pace_sent_and_clean_reports_add_to_it() -> None:
    state, _ = take(LimitState(), RouteLimits(), 100)
    throttled = limiter.report(state, RouteLimits(), NOW + 10, "h", Report(sent=100, throttled=3, retry_after=1))
    recovered = limiter.report(throttled, RouteLimits(), NOW + 11, "h", Report(sent=5, succeeded=5))

    assert throttled.learned_rpm == pytest.approx(100 / 10 * 60 * limiter.DECREASE)
    assert throttled.paused_until == NOW + 11
    assert recovered.learned_rpm == pytest.approx(throttled.learned_rpm + limiter.INCREASE_RPM)


def test_an_answer_that_used_fewer_tokens_than_estimated_gives_the_rest_back() -> None:
    limits = RouteLimits(tokens_per_minute=60_000)
    state, _ = take(LimitState(), limits, 2, tokens=400)

    corrected = limiter.report(
        state, limits, NOW, "h", Report(sent=2, succeeded=2, estimated_tokens=800, used_tokens=50)
    )

    assert corrected.tokens == pytest.approx(950 - 800 + 750)


@pytest.mark.parametrize(
    ("text", "seconds"), [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("0.970s", 0.97), ("1200", 1200.0), ("x", None)]
)
def test_rate_limit_header_values_read_as_counts_or_seconds(text: str, seconds: float | None) -> None:
    assert parse(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_an_answer_without_rate_limit_headers_has_none() -> None:
    assert rate_headers({"content-type": "application/json"}) is None
    assert rate_headers({"x-ratelimit-remaining-requests": "0"}) == RateHeaders(remaining_requests=0)


def test_a_tenant_that_arrives_while_another_has_the_route_gets_half_of_it_from_then_on() -> None:
    state = LimitState()
    for step in range(10):
        state, _ = limiter.take(state, PER_SECOND_20, NOW + step / 2, [1] * 50, tenant="big", holder="b", until=NOW)
    granted = {"big": 0, "small": 0}
    for step in range(10, 50):
        for tenant in ("big", "big", "big", "small"):
            state, grant = limiter.take(
                state, PER_SECOND_20, NOW + step / 2, [1] * 50, tenant=tenant, holder=tenant, until=NOW + 100
            )
            granted[tenant] += grant.count

    assert sum(granted.values()) == pytest.approx(PACED * 20, abs=10)
    assert granted["small"] == pytest.approx(granted["big"], rel=0.1)


def test_an_answer_counts_its_prompt_and_the_most_it_was_allowed_as_an_upstream_counts_it() -> None:
    usage = Usage(input_tokens=200, output_tokens=150, total_tokens=350)
    chat = {"model": "m", "messages": [{"role": "user", "content": "x" * 800}]}

    assert counted_tokens({**chat, "max_tokens": 64}, usage) == 264
    assert counted_tokens(chat, usage) == 350
    assert estimated_tokens({**chat, "max_tokens": 64}) == 207 + 4 + 64  # the message as JSON, 4 characters a token
