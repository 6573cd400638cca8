"""`batchapi submit` sends a file too large for one API request through the Uploads API, and the batch made of
the uploaded file runs, is watched and reads like an inline one."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CONSOLE, KEY_A, RunningStack

CLI = [str(Path(sys.executable).parent / "batchapi")]
EMBEDDINGS = "/v1/embeddings"


def _cli(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BATCH_API_URL": stack.base_url, "BATCH_API_KEY": KEY_A}
    return subprocess.run([*CLI, *arguments], env=environment, capture_output=True, text=True, timeout=120)


def _embedding(text: str) -> dict[str, Any]:
    return {"model": "text-embedding-3-small", "input": text}


def _result_ids(stack: RunningStack, batch_id: str) -> list[str]:
    results = stack.call("GET", f"{CONSOLE}/{batch_id}/results").body.decode()
    return [json.loads(line)["custom_id"] for line in results.splitlines()]


def test_cli_uploads_a_file_too_large_for_one_request_in_parts_and_waits_for_its_batch(
    stack: RunningStack, tmp_path: Path
) -> None:
    source = tmp_path / "big.jsonl"
    lines = [
        {"custom_id": f"q{n}", "method": "POST", "url": EMBEDDINGS, "body": _embedding("x " * 400_000)}
        for n in range(8)
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))

    submitted = _cli(stack, "submit", str(source), "--wait", "--poll", "0.2")

    batch_id = submitted.stdout.strip()
    assert submitted.returncode == 0, submitted.stderr
    assert f"uploading big.jsonl: {source.stat().st_size:,} bytes in 2 parts" in submitted.stderr
    assert f"{batch_id} completed: 8 completed, 0 failed" in submitted.stderr
    assert _result_ids(stack, batch_id) == [f"q{n}" for n in range(8)]
    file_id = stack.call("GET", f"/v1/batches/{batch_id}").json()["input_file_id"]
    uploaded = stack.call("GET", f"/v1/files/{file_id}").json()
    assert (uploaded["filename"], uploaded["bytes"], uploaded["purpose"]) == (
        "big.jsonl",
        source.stat().st_size,
        "batch",
    )


def test_cli_uploads_bare_bodies_as_openai_batch_input_lines_the_batch_runs(
    stack: RunningStack, tmp_path: Path
) -> None:
    source = tmp_path / "bodies.jsonl"
    entries = [
        {"custom_id": "a", **_embedding("one")},
        {"custom_id": "b", "body": _embedding("two")},
        _embedding("three"),
    ]
    source.write_text("".join(json.dumps(entry) + "\n" for entry in entries))

    submitted = _cli(stack, "submit", str(source), "--endpoint", EMBEDDINGS, "--upload", "--wait", "--poll", "0.2")

    batch_id = submitted.stdout.strip()
    assert submitted.returncode == 0, submitted.stderr
    assert f"{batch_id} completed: 3 completed, 0 failed" in submitted.stderr
    assert _result_ids(stack, batch_id) == ["a", "b", "line-3"]
    file_id = stack.call("GET", f"/v1/batches/{batch_id}").json()["input_file_id"]
    content = stack.call("GET", f"/v1/files/{file_id}/content").body
    assert [json.loads(line) for line in content.splitlines()] == [
        {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": _embedding(text)}
        for custom_id, text in [("a", "one"), ("b", "two"), ("line-3", "three")]
    ]


def test_cli_prints_the_services_refusal_of_a_batch_of_an_uploaded_file(stack: RunningStack, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"custom_id": "a", "url": EMBEDDINGS, "body": _embedding("one")}) + "\n")

    submitted = _cli(stack, "submit", str(source), "--upload", "--completion-window", "1s")

    assert submitted.returncode == 1 and submitted.stdout == ""
    assert submitted.stderr.splitlines()[-1] == "batchapi: completion_window must be at least 60 seconds (HTTP 400)"
