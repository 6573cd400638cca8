import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "e2e-key-a"
KEY_B = "e2e-key-b"
CONSOLE = "/api/client/v1/batches"
TERMINAL = {"completed", "failed", "expired", "cancelled"}
STACK_ENVIRONMENT = {
    "BATCH_API_KEYS": f"tenant-a={KEY_A},tenant-b={KEY_B}",
    "WORK_UNIT_LINES": "10",
    "WATCHDOG_SECONDS": "5",
    "RETRY_BASE_SECONDS": "1",
    "PYTHONUNBUFFERED": "1",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RunningStack:
    """`python -m embedded` in a subprocess on a free port, as `make run` starts it."""

    def __init__(self, environment: dict[str, str]):
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "embedded", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._ready = threading.Event()
        # The stack logs a few KB per batch for as long as it runs: a pipe nobody reads fills up
        # (64 KiB) and blocks its next log write, and with it the handler that logs.
        self._reader = threading.Thread(target=self._read_output, name="stack-output", daemon=True)
        self._reader.start()
        self._wait_until_ready(timeout=60)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("Ready on"):
                self._ready.set()

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError("local stack exited:\n" + "".join(self.output))
            if time.monotonic() > deadline:
                raise TimeoutError("local stack not ready:\n" + "".join(self.output))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self._reader.join(timeout=5)
        return self.process.returncode

    def call(
        self, method: str, path: str, key: str | None = KEY_A, body: Any = None, raw: bytes | None = None
    ) -> Answer:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 - loopback
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
                return Answer(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as failure:
            return Answer(failure.code, dict(failure.headers.items()), failure.read())

    def wait(self, batch_id: str, key: str = KEY_A, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self.call("GET", f"{CONSOLE}/{batch_id}", key).json()
            if batch["status"] in TERMINAL:
                return batch
            time.sleep(0.2)
        raise TimeoutError(f"batch {batch_id} did not end in {timeout}s")


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    running = RunningStack(STACK_ENVIRONMENT)
    yield running
    assert running.stop() == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def chat_line(custom_id: str, text: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}}
