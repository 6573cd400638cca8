"""`batchapi watch` follows an existing batch; `batchapi retry` runs its failed lines again without re-uploading."""

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import CONSOLE, KEY_A, RunningStack, chat_line

CLI = [str(Path(sys.executable).parent / "batchapi")]


def _cli(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BATCH_API_URL": stack.base_url, "BATCH_API_KEY": KEY_A}
    return subprocess.run([*CLI, *arguments], env=environment, capture_output=True, text=True, timeout=120)


def test_cli_watches_a_batch_then_retries_its_failed_lines(stack: RunningStack) -> None:
    lines = [chat_line("ok", "fine"), chat_line("bad", "nope [fault:400]"), chat_line("late", "[fault:500x5] try")]
    created = stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines}).json()

    watched = _cli(stack, "watch", created["id"], "--poll", "0.2")
    retried = _cli(stack, "retry", created["id"], "--wait", "--poll", "0.2")

    assert watched.returncode == 0 and f"{created['id']} completed: 1 completed, 2 failed" in watched.stderr
    retried_id = retried.stdout.strip()
    assert retried_id.startswith("batch_") and retried_id != created["id"]
    assert f"{retried_id} completed: 1 completed, 1 failed" in retried.stderr
    batch = stack.call("GET", f"{CONSOLE}/{retried_id}").json()
    assert batch["metadata"] == {"retry_of": created["id"]} and batch["request_counts"]["total"] == 2
