import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedded.launcher import LaunchedStack

KEY = "bench-key"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


class StackProcess(LaunchedStack):
    def cpu_seconds(self) -> float:
        """User and system CPU time the stack has used so far: its process and the function processes it runs."""
        children = " ".join(path.read_text() for path in Path(f"/proc/{self.pid}/task").glob("*/children"))
        return sum(_cpu_seconds(pid) for pid in [self.pid, *map(int, children.split())])

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.request(method, path, KEY, body, timeout=120)
        if answer.status >= 400:
            raise RuntimeError(f"{method} {path} answered {answer.status}: {answer.body[:500]!r}")
        return answer.json()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a process that has ended since it was listed
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def local_stack(environment: dict[str, str]) -> Iterator[StackProcess]:
    """`python -m embedded` in a subprocess, as `make run` starts it, with settings from `environment`."""
    stack = StackProcess({"BATCH_API_KEY": KEY, **environment})
    try:
        yield stack
    finally:
        stack.kill()  # its clean shutdown is the e2e tests' concern; here it would only add time


def chat_request(n: int) -> dict[str, Any]:
    return {
        "custom_id": f"t{n}",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n}"}]},
    }
