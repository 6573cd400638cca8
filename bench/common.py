import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

KEY = "bench-key"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@contextmanager
def local_stack(environment: dict[str, str]) -> Iterator["StackProcess"]:
    """`python -m embedded` in a subprocess, as `make run` starts it, with settings from `environment`."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "embedded", "--port", str(port)],
        env={**os.environ, "BATCH_API_KEY": KEY, **environment},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        while not process.stdout.readline().startswith("Ready on"):
            if process.poll() is not None:
                raise RuntimeError("the local stack exited before it was ready")
        # Its logs must go on being read: a full pipe blocks the stack's next log write.
        threading.Thread(target=_discard, args=(process.stdout,), name="stack-output", daemon=True).start()
        yield StackProcess(port, process.pid)
    finally:
        process.kill()  # its clean shutdown is the e2e tests' concern; here it would only add time
        process.wait()


def _discard(stream: IO[str]) -> None:
    for _ in stream:
        pass


class StackProcess:
    def __init__(self, port: int, pid: int):
        self.port = port
        self.pid = pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User and system CPU time the stack process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {KEY}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            return json.loads(answer.read())


def chat_request(n: int) -> dict[str, Any]:
    return {
        "custom_id": f"t{n}",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n}"}]},
    }
