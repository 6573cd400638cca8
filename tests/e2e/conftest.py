from collections.abc import Iterator
from typing import Any

import pytest

from embedded.launcher import Answer, LaunchedStack

KEY_A = "e2e-key-a"
KEY_B = "e2e-key-b"
CONSOLE = "/api/client/v1/batches"
STACK_ENVIRONMENT = {
    "BATCH_API_KEYS": f"tenant-a={KEY_A},tenant-b={KEY_B}",
    "WORK_UNIT_LINES": "10",
    "WATCHDOG_SECONDS": "5",
    "RETRY_BASE_SECONDS": "1",
}


class RunningStack(LaunchedStack):
    """`python -m embedded` in a subprocess on a free port, as `make run` starts it, and a client of it."""

    def call(
        self, method: str, path: str, key: str | None = KEY_A, body: Any = None, raw: bytes | None = None
    ) -> Answer:
        return self.request(method, path, key, body, raw)

    def wait(self, batch_id: str, key: str = KEY_A, timeout: float = 120) -> dict[str, Any]:
        return self.wait_for_batch(batch_id, key, timeout)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    running = RunningStack(STACK_ENVIRONMENT)
    yield running
    assert running.stop() == 0


def chat_line(custom_id: str, text: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}}
