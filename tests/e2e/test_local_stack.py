import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.e2e.conftest import CONSOLE, KEY_A, KEY_B, RunningStack, chat_line
from tests.waiting import wait_for

CLI = [str(Path(sys.executable).parent / "batchapi")]  # the installed entry point


def test_batch_over_plain_http_completes_with_results_in_input_order(stack: RunningStack) -> None:
    lines = [chat_line(f"h{n}", f"over http {n}") for n in range(25)]

    created = stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines})

    assert created.status == 201
    batch = stack.wait(created.json()["id"])
    assert batch["status"] == "completed"
    assert batch["request_counts"]["completed"] == 25
    results = stack.call("GET", f"{CONSOLE}/{batch['id']}/results")
    assert results.headers["content-type"] == "application/jsonl"
    assert [json.loads(line)["custom_id"] for line in results.body.splitlines()] == [f"h{n}" for n in range(25)]


def test_cli_submits_a_1000_line_file_with_live_progress_and_writes_results(
    stack: RunningStack, tmp_path: Path
) -> None:
    source = tmp_path / "input.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": f"c{n}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    **{"body": chat_line("", f"cli {n}")["body"]},
                }
            )
            + "\n"
            for n in range(1000)
        )
    )
    environment = {**os.environ, "BATCH_API_URL": stack.base_url, "BATCH_API_KEY": KEY_A}

    submitted = subprocess.run(
        [*CLI, "submit", str(source), "--wait", "--poll", "0.2"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert submitted.returncode == 0, submitted.stderr
    batch_id = submitted.stdout.strip()
    progress = [line for line in submitted.stderr.splitlines() if line.startswith("[")]
    assert len(progress) >= 2
    assert progress[-1].startswith("[" + "#" * 30 + "] 1000/1000 100%  failed 0")
    assert "lines/s" in progress[0] and "ETA" in progress[0]
    assert f"{batch_id} completed: 1000 completed, 0 failed" in submitted.stderr
    output = tmp_path / "results.jsonl"
    written = subprocess.run(
        [*CLI, "results", batch_id, "-o", str(output)], env=environment, capture_output=True, text=True, timeout=120
    )
    assert written.returncode == 0, written.stderr
    assert [json.loads(line)["custom_id"] for line in output.read_text().splitlines()] == [f"c{n}" for n in range(1000)]


def test_cli_reports_api_errors_with_a_non_zero_exit(stack: RunningStack) -> None:
    environment = {**os.environ, "BATCH_API_URL": stack.base_url, "BATCH_API_KEY": KEY_A}

    missing = subprocess.run(
        [*CLI, "status", "batch_nope"], env=environment, capture_output=True, text=True, timeout=60
    )
    unauthorized = subprocess.run(
        [*CLI, "--key", "wrong", "list"], env=environment, capture_output=True, text=True, timeout=60
    )

    assert missing.returncode == 1
    assert missing.stderr.strip() == "batchapi: Batch 'batch_nope' not found (HTTP 404)"
    assert unauthorized.returncode == 1
    assert unauthorized.stderr.strip() == "batchapi: Unauthorized (HTTP 401)"


def test_cancel_over_http_skips_pending_lines_and_lets_running_ones_finish(stack: RunningStack) -> None:
    lines = [chat_line(f"s{n}", f"slow {n} [slow:1]") for n in range(300)]
    batch_id = stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"]
    _wait_for_running_line(stack, batch_id)

    cancelled = stack.call("POST", f"{CONSOLE}/{batch_id}/cancel")

    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelling"
    batch = stack.wait(batch_id)
    counts = batch["request_counts"]
    assert batch["status"] == "cancelled"
    assert counts["cancelled"] > 0 and counts["completed"] > 0
    assert counts["completed"] + counts["cancelled"] == 300
    assert len(stack.call("GET", f"{CONSOLE}/{batch_id}/results").body.splitlines()) == counts["completed"]


def _wait_for_running_line(stack: RunningStack, batch_id: str) -> None:
    wait_for(lambda: stack.call("GET", f"{CONSOLE}/{batch_id}/items?status=running&limit=1").json()["data"], 30)


def test_items_page_by_index_over_http(stack: RunningStack) -> None:
    lines = [chat_line(f"p{n}", f"paging {n}") for n in range(30)]
    batch_id = stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"]
    stack.wait(batch_id)

    pages = [
        stack.call("GET", f"{CONSOLE}/{batch_id}/items?limit=12&skip={skip}").json()["data"] for skip in (0, 12, 24)
    ]

    assert [len(page) for page in pages] == [12, 12, 6]
    assert [item["index"] for page in pages for item in page] == list(range(30))
    assert {item["status"] for page in pages for item in page} == {"succeeded"}


def test_two_tenants_are_isolated(stack: RunningStack) -> None:
    batch_id = stack.call(
        "POST", CONSOLE, body={"endpoint": "/v1/embeddings", "requests": [{"body": {"model": "e", "input": "mine"}}]}
    ).json()["id"]

    seen_by_b = stack.call("GET", f"{CONSOLE}/{batch_id}", KEY_B)
    listed_by_b = stack.call("GET", CONSOLE, KEY_B).json()["data"]

    assert seen_by_b.status == 404
    assert batch_id not in {batch["id"] for batch in listed_by_b}
    assert stack.wait(batch_id)["status"] == "completed"


def test_simulator_faults_are_retried_to_success(stack: RunningStack) -> None:
    lines = [
        chat_line("rate", "limited [fault:429x2]"),
        chat_line("crash", "broken [fault:500x1]"),
        chat_line("ok", "fine"),
    ]

    batch = stack.wait(
        stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"]
    )

    assert batch["request_counts"] == {"total": 3, "completed": 3, "failed": 0, "cancelled": 0, "expired": 0}


def test_a_presigned_upload_goes_straight_to_storage_and_feeds_a_batch(stack: RunningStack) -> None:
    data = "".join(
        json.dumps(
            {
                "custom_id": f"d{n}",
                "method": "POST",
                "url": "/v1/embeddings",
                "body": {"model": "e", "input": f"direct {n}"},
            }
        )
        + "\n"
        for n in range(20)
    ).encode()
    buckets = "/api/client/v1/files/buckets"
    presigned = stack.call("POST", f"{buckets}/direct/uploads", body={"fileName": "big.jsonl"}).json()
    put = urllib.request.Request(presigned["uploadUrl"], data=data, method="PUT", headers=presigned["headers"])  # noqa: S310
    with urllib.request.urlopen(put, timeout=30) as answer:  # noqa: S310 - the local stack's storage
        assert answer.status == 200
    key = presigned["file"]["key"]

    completed = stack.call("POST", f"{buckets}/direct/uploads/{key}/complete").json()
    source = {"bucket_key": "direct", "object_key": key}
    batch_id = stack.call(
        "POST", CONSOLE, body={"endpoint": "/v1/embeddings", "input_file": source, "output_bucket_key": "results"}
    ).json()["id"]

    assert completed["file"]["size"] == len(data)
    batch = stack.wait(batch_id)
    assert batch["request_counts"]["completed"] == 20
    output = stack.call("GET", f"{buckets}/results/objects/{batch['output_file']['object_key']}/download").body
    assert [json.loads(line)["custom_id"] for line in output.splitlines()] == [f"d{n}" for n in range(20)]


def _put(url: str, data: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the local stack's storage
        return answer.status


def test_an_upload_url_used_again_after_complete_changes_nothing(stack: RunningStack) -> None:
    buckets = "/api/client/v1/files/buckets"
    presigned = stack.call("POST", f"{buckets}/direct/uploads", body={"fileName": "once.txt"}).json()
    key = presigned["file"]["key"]
    before = stack.call("GET", f"{buckets}/direct/objects/{key}/download")
    assert _put(presigned["uploadUrl"], b"the first bytes", presigned["headers"]) == 200
    completed = stack.call("POST", f"{buckets}/direct/uploads/{key}/complete")

    again = _put(presigned["uploadUrl"], b"bytes nobody completed", presigned["headers"])

    assert before.status == 404
    assert completed.json()["file"]["size"] == len(b"the first bytes") and again == 200
    assert stack.call("GET", f"{buckets}/direct/objects/{key}/download").body == b"the first bytes"
    assert stack.call("GET", f"{buckets}/direct/objects/{key}").json()["file"]["size"] == len(b"the first bytes")
    assert stack.call("POST", f"{buckets}/direct/uploads/{key}/complete").status == 400
