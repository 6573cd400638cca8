"""The local stack against a rate-limited simulator, over HTTP: every line waits its turn, none fails."""

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import CONSOLE, KEY_B, STACK_ENVIRONMENT, RunningStack, chat_line


@pytest.fixture(scope="module")
def limited() -> Iterator[RunningStack]:
    """A simulator admitting 5 requests a second, and one attempt a line: a 429 that spent an attempt
    would fail its line."""
    running = RunningStack({**STACK_ENVIRONMENT, "SIMULATOR_RPM": "300", "MAX_LINE_ATTEMPTS": "1"})
    yield running
    assert running.stop() == 0


def test_a_batch_of_many_times_the_rate_limit_succeeds_line_by_line_without_spending_attempts(
    limited: RunningStack,
) -> None:
    lines = [chat_line(f"r{n}", f"line {n}") for n in range(100)]
    created = limited.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines}).json()

    batch = limited.wait(created["id"], timeout=120)
    failed = limited.call("GET", f"{CONSOLE}/{created['id']}/items?status=failed").json()["data"]

    assert [item["error_message"] for item in failed] == []
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 100, "completed": 100, "failed": 0, "cancelled": 0, "expired": 0}
    assert batch["waiting_for_capacity"] is None


def test_a_second_tenants_small_batch_ends_long_before_the_first_tenants_big_one(limited: RunningStack) -> None:
    big = limited.call(
        "POST",
        CONSOLE,
        body={"endpoint": "/v1/chat/completions", "requests": [chat_line(f"b{n}", "x") for n in range(200)]},
    ).json()["id"]
    small = limited.call(
        "POST",
        CONSOLE,
        key=KEY_B,
        body={"endpoint": "/v1/chat/completions", "requests": [chat_line(f"s{n}", "y") for n in range(10)]},
    ).json()["id"]

    small_batch = limited.wait(small, key=KEY_B, timeout=60)
    big_then = limited.call("GET", f"{CONSOLE}/{big}").json()

    assert small_batch["request_counts"]["completed"] == 10
    assert big_then["status"] == "in_progress"
    assert big_then["waiting_for_capacity"] is not None and big_then["waiting_for_capacity"]["lines"] > 0
    assert limited.wait(big, timeout=120)["request_counts"]["completed"] == 200
