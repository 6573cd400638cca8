from collections.abc import Iterator
from typing import Any

import pytest

from embedded.launcher import LaunchedStack

KEY = "local-key"
CONSOLE = "/api/client/v1/batches"
STACK_ENVIRONMENT = {"BATCH_API_KEYS": f"tenant-a={KEY}"}


@pytest.fixture(scope="session")
def stack() -> Iterator[LaunchedStack]:
    running = LaunchedStack(STACK_ENVIRONMENT)
    yield running
    assert running.stop() == 0


def chat_line(custom_id: str, text: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}}
