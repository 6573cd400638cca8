import time
from collections.abc import Iterator
from typing import Any

import pytest

from embedded.launcher import LaunchedStack

KEY = "local-key"
CONSOLE = "/api/client/v1/batches"
TERMINAL = {"completed", "failed", "expired", "cancelled"}
STACK_ENVIRONMENT = {"BATCH_API_KEYS": f"tenant-a={KEY}"}


@pytest.fixture(scope="session")
def stack() -> Iterator[LaunchedStack]:
    running = LaunchedStack(STACK_ENVIRONMENT)
    yield running
    assert running.stop() == 0


def chat_line(custom_id: str, text: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}}


def wait_for_batch(stack: LaunchedStack, batch_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = stack.request("GET", f"{CONSOLE}/{batch_id}", KEY).json()
        if batch["status"] in TERMINAL:
            return batch
        time.sleep(0.2)
    raise TimeoutError(f"batch {batch_id} did not end in {timeout}s")
