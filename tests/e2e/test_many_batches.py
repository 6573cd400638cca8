import time
from typing import Any

from tests.e2e.conftest import CONSOLE, RunningStack, chat_line

BATCHES = 40
# Each batch logs about 3 KB from its functions; 40 of them are more than a 64 KiB pipe holds.
ALL_WITHIN_SECONDS = 120


def _create(stack: RunningStack, n: int) -> tuple[str, int, dict[str, Any]]:
    lines = [chat_line(f"m{n}-{k}", f"batch {n} line {k}") for k in range(2 + n % 2)]
    metadata = {"batch": str(n)} if n % 2 else {}
    created = stack.call(
        "POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines, "metadata": metadata}
    )
    assert created.status == 201, created.body
    return created.json()["id"], len(lines), metadata


def _ended(stack: RunningStack, batch_id: str) -> tuple[str, dict[str, int], dict[str, Any]]:
    batch = stack.wait(batch_id, timeout=30)
    return batch["status"], batch["request_counts"], batch["metadata"]


def _expected(lines: int, metadata: dict[str, Any]) -> tuple[str, dict[str, int], dict[str, Any]]:
    counts = {"total": lines, "completed": lines, "failed": 0, "cancelled": 0, "expired": 0}
    return "completed", counts, metadata


def test_forty_batches_one_after_another_each_complete_with_their_counts(stack: RunningStack) -> None:
    started = time.monotonic()

    for n in range(BATCHES):
        batch_id, lines, metadata = _create(stack, n)
        assert _ended(stack, batch_id) == _expected(lines, metadata), f"batch {n}"

    assert time.monotonic() - started < ALL_WITHIN_SECONDS


def test_forty_batches_created_at_once_each_complete_with_their_counts(stack: RunningStack) -> None:
    started = time.monotonic()

    created = [_create(stack, n) for n in range(BATCHES)]

    for n, (batch_id, lines, metadata) in enumerate(created):
        assert _ended(stack, batch_id) == _expected(lines, metadata), f"batch {n}"
    assert time.monotonic() - started < ALL_WITHIN_SECONDS
