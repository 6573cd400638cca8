"""Flow control against a rate-limited upstream: lines wait for capacity instead of failing."""

import json

import pytest

from embedded.rate_limits import RateLimiter, parse_limits
from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import KEY_A, KEY_B, Console, chat_line, started_system

CHAT = "/v1/chat/completions"


def _lines(count: int) -> list[dict[str, object]]:
    return [chat_line(f"c{n}", f"line {n}") for n in range(count)]


def _limited_to_5_a_second(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """The simulator admits 300 requests a minute, and UPSTREAMS routes every model to it with that limit."""
    simulator.rate_limits = RateLimiter(parse_limits("300", None))
    monkeypatch.setenv("SIM_KEY", "sk-upstream-test")
    limits = {"requests_per_minute": 300}
    return json.dumps([{"name": "sim", "base_url": simulator.base_url, "api_key_env": "SIM_KEY", "limits": limits}])


def _retries(system: LocalSystem, batch_id: str) -> dict[int, int]:
    return {index: count for unit in system.stores.units.list(batch_id) for index, count in unit.retries.items()}


def test_a_batch_far_past_the_rate_limit_learns_it_and_every_line_succeeds_without_spending_attempts(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.rate_limits = RateLimiter(parse_limits("300", None))
    with started_system(simulator, monkeypatch) as system:
        console = Console(system)
        created = console.create({"endpoint": CHAT, "requests": _lines(60)}).json()

        batch = console.wait(created["id"], timeout=90)

        assert batch["status"] == "completed"
        assert batch["request_counts"] == {"total": 60, "completed": 60, "failed": 0, "cancelled": 0, "expired": 0}
        assert _retries(system, batch["id"]) == {}
        assert simulator.rate_limits.admitted == 60
        assert simulator.rate_limits.refused <= 0.2 * 60


def test_configured_limits_keep_the_upstream_from_refusing_at_all(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstreams = _limited_to_5_a_second(simulator, monkeypatch)
    with started_system(simulator, monkeypatch, UPSTREAMS=upstreams) as system:
        console = Console(system)
        created = console.create({"endpoint": CHAT, "requests": _lines(45)}).json()

        batch = console.wait(created["id"], timeout=90)

        assert batch["request_counts"]["completed"] == 45
        assert simulator.rate_limits.refused <= 0.05 * 45


def test_lines_still_waiting_when_the_window_ends_expire_and_the_finished_ones_stay(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.rate_limits = RateLimiter(parse_limits("30", None))
    with started_system(simulator, monkeypatch) as system:
        console = Console(system)
        created = console.create({"endpoint": CHAT, "requests": _lines(30), "completion_window": "6s"}).json()

        batch = console.wait(created["id"], timeout=60)

        counts = batch["request_counts"]
        assert batch["status"] == "expired"
        assert counts["failed"] == 0 and counts["completed"] >= 1 and counts["expired"] >= 1
        assert counts["completed"] + counts["expired"] == 30
        assert len(console.result_lines(batch["id"])) == counts["completed"]


def test_a_second_tenants_small_batch_finishes_while_the_first_tenants_big_one_still_runs(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstreams = _limited_to_5_a_second(simulator, monkeypatch)
    with started_system(simulator, monkeypatch, UPSTREAMS=upstreams, MAX_LINES_PER_BATCH="200") as system:
        first, second = Console(system, KEY_A), Console(system, KEY_B)
        big = first.create({"endpoint": CHAT, "requests": _lines(150)}).json()["id"]
        system.run_until(lambda: first.get(big).json()["request_counts"]["completed"] >= 6, timeout=30)
        small = second.create({"endpoint": CHAT, "requests": _lines(6)}).json()["id"]

        ended = second.wait(small, timeout=60)
        big_then = first.get(big).json()

        assert ended["status"] == "completed"
        assert big_then["status"] == "in_progress" and big_then["request_counts"]["completed"] < 120
        assert first.wait(big, timeout=120)["request_counts"]["completed"] == 150
