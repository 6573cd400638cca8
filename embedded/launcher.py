"""`python -m embedded` in a subprocess on a free port, as `make run` starts it, for the e2e tests and the benches."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
READY = "Ready on"
TERMINAL = {"completed", "failed", "expired", "cancelled"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LaunchedStack:
    """Starts the stack with `environment` over this process's own and returns once it announces it is ready."""

    def __init__(self, environment: dict[str, str], ready_seconds: float = 60.0):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter running this package
            [sys.executable, "-m", "embedded", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._ready = threading.Event()
        # The stack logs a few KB per batch for as long as it runs: a pipe nobody reads fills up
        # (64 KiB) and blocks its next log write, and with it the handler that logs.
        self._reader = threading.Thread(target=self._read_output, name="stack-output", daemon=True)
        self._reader.start()
        try:
            self._wait_until_ready(ready_seconds)
        except BaseException:
            self.kill()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def request(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        timeout: float = 30.0,
    ) -> Answer:
        """One HTTP call to the stack: `body` sent as JSON or `raw` as it is; any status is an answer."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 - loopback
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback
                return Answer(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as failure:
            return Answer(failure.code, dict(failure.headers.items()), failure.read())

    def wait_for_batch(self, batch_id: str, key: str, timeout: float = 60) -> dict[str, Any]:
        """Polls the console surface until the batch ends; fails at the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self.request("GET", f"/api/client/v1/batches/{batch_id}", key).json()
            if batch["status"] in TERMINAL:
                return batch
            time.sleep(0.2)
        raise TimeoutError(f"batch {batch_id} did not end in {timeout}s")

    def stop(self, timeout: float = 20.0) -> int:
        """Asks the stack to stop (SIGTERM, as a service manager would) and returns its exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._reader.join(timeout=5)
        return self.process.returncode

    def kill(self) -> None:
        """Ends the stack at once, for callers to whom its clean shutdown would only add time."""
        self.process.kill()
        self.process.wait()
        self._reader.join(timeout=5)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith(READY):
                self._ready.set()

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError("the local stack exited before it was ready:\n" + "".join(self.output))
            if time.monotonic() > deadline:
                raise TimeoutError(f"the local stack was not ready after {timeout}s:\n" + "".join(self.output))
