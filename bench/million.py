"""A 1,000,000-line batch end to end through the local stack, as a user would send it.

    python -m bench.million [--lines 1000000] [--line-bytes 200]

Starts `python -m embedded` with the template's defaults and a simulator (in this process) that answers at once.
The input goes up as a console bucket object through a presigned upload (a /v1 file keeps OpenAI's 50,000-request
limit), the console creates the batch from it, and this waits for it to end. Then the output file is downloaded
through the OpenAI surface (`files.content`, a redirect to storage) and every line is checked: each custom id once,
in input order. Prints each phase's time (from the batch's own timestamps), lines a second, create -> first line
and last line -> terminal (from the simulator's first request and last answer), the stack's peak RSS, and every AWS
request the stack made (`AWS_REQUEST_COUNTS`) with its cost, priced as bench/requests.py prices them."""

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from openai import OpenAI

from bench.common import KEY, TERMINAL, StackProcess, local_stack
from bench.large_input import _peak_rss_mb
from bench.requests import cost
from embedded.request_counts import RequestCounts
from embedded.simulator import Simulator

BUCKETS = "/api/client/v1/files/buckets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--line-bytes", type=int, default=200)
    arguments = parser.parse_args()
    simulator = Simulator().start()
    with tempfile.TemporaryDirectory() as folder:
        counted = Path(folder) / "requests.json"
        settings = {
            "UPSTREAM_BASE_URL": simulator.base_url,
            "UPSTREAM_API_KEY": "unused",
            "MAX_LINES_PER_BATCH": str(max(arguments.lines, 100_000)),
            "WATCHDOG_SECONDS": "10",
            "AWS_REQUEST_COUNTS": str(counted),
        }
        path = Path(folder) / "input.jsonl"
        _write_input(path, arguments.lines, arguments.line_bytes)
        try:
            with local_stack(settings) as stack:
                run(stack, simulator, path, arguments.lines)
                transitions, invokes = _workflow_steps(stack)
                stack.stop(timeout=120)
        finally:
            simulator.stop()
        _print_requests(counted, transitions, invokes, arguments.lines)


def _write_input(path: Path, lines: int, line_bytes: int) -> None:
    padding = "x" * max(0, line_bytes - 150)
    with path.open("w") as out:
        for n in range(lines):
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n} {padding}"}]}
            line = {"custom_id": f"c{n}", "method": "POST", "url": "/v1/chat/completions", "body": body}
            out.write(json.dumps(line) + "\n")


def run(stack: StackProcess, simulator: Simulator, path: Path, lines: int) -> None:
    size_mb = path.stat().st_size / 1024 / 1024
    started = time.monotonic()
    key = _upload(stack, path)
    uploaded = time.monotonic()
    simulator.load.reset()
    create = {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "bench", "object_key": key}}
    created = time.monotonic()
    batch = stack.call("POST", "/api/client/v1/batches", create)
    while batch["status"] not in TERMINAL:
        time.sleep(0.1 if simulator.load.requests >= lines else 5.0)
        batch = stack.call("GET", f"/api/client/v1/batches/{batch['id']}")
    ended = time.monotonic()
    openai_view = stack.call("GET", f"/v1/batches/{batch['id']}")
    counts = openai_view["request_counts"]
    print(f"input: {lines:,} lines, {size_mb:.0f} MB; uploaded (presigned PUT) in {uploaded - started:.1f} s")
    print(
        f"status {batch['status']}: completed {counts['completed']:,} / {counts['total']:,}, failed {counts['failed']}"
    )
    print(f"prepare (created -> in_progress): {openai_view['in_progress_at'] - openai_view['created_at']} s")
    print(f"run (in_progress -> finalizing): {openai_view['finalizing_at'] - openai_view['in_progress_at']} s")
    print(f"finalize (finalizing -> completed): {openai_view['completed_at'] - openai_view['finalizing_at']} s")
    load = simulator.load
    assert load.first_started is not None and load.last_ended is not None
    print(f"create -> first line: {load.first_started - created:.2f} s")
    print(f"last line -> terminal: {ended - load.last_ended:.2f} s (polled every 0.1 s once every line was sent)")
    print(f"create -> completed: {ended - created:.0f} s, {lines / (ended - created):.1f} lines/s")
    print(f"stack process peak RSS (moto holds every stored byte in it): {_peak_rss_mb(stack.pid):.0f} MB")
    checked = _check_output(stack, openai_view["output_file_id"], lines)
    print(f"output file: {checked:,} lines, each custom id once, in input order")


def _workflow_steps(stack: StackProcess) -> tuple[int, int]:
    """The state machine's transitions and Lambda tasks over the batch, from the stack's own moto."""
    endpoint = next(line.split()[-1] for line in stack.output if line.strip().startswith("AWS (moto)"))
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local stack's moto takes any
    )
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    execution = sfn.list_executions(stateMachineArn=machine)["executions"][0]["executionArn"]
    events = [
        event
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
        for event in page["events"]
    ]
    entered = sum(1 for event in events if event["type"].endswith("StateEntered"))
    return entered, sum(1 for event in events if event["type"] == "TaskScheduled")


def _print_requests(counted: Path, transitions: int, invokes: int, lines: int) -> None:
    """The stack's AWS requests over its whole run (the upload and the create included) and their cost."""
    recorded = json.loads(counted.read_text())
    counts = RequestCounts()
    counts.calls.update(recorded["calls"])
    counts.items.update(recorded["items"])
    total = sum(counts.calls.values())
    dollars = cost(counts, transitions, invokes)
    print(f"AWS requests: {total:,}, {total / lines:.3f} a line; ${dollars / lines * 1e6:.3f} per 1M lines (requests)")
    print("  " + ", ".join(f"{name} {count:,}" for name, count in counts.calls.most_common(12)))


def _upload(stack: StackProcess, path: Path) -> str:
    """A presigned upload to a console bucket: create, PUT the bytes to storage, complete. Returns the key."""
    presigned = stack.call("POST", f"{BUCKETS}/bench/uploads", {"fileName": path.name})
    with path.open("rb") as data:
        request = urllib.request.Request(presigned["uploadUrl"], data=data, method="PUT")  # noqa: S310 - loopback
        for name, value in presigned["headers"].items():
            request.add_header(name, value)
        request.add_header("Content-Length", str(path.stat().st_size))
        with urllib.request.urlopen(request, timeout=600):  # noqa: S310 - loopback
            pass
    key = presigned["file"]["key"]
    stack.call("POST", f"{BUCKETS}/bench/uploads/{key}/complete")
    return key


def _check_output(stack: StackProcess, file_id: str, lines: int) -> int:
    """Reads the output file with the openai package (its content route redirects to storage) and checks every
    line, streaming."""
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=KEY, max_retries=0, timeout=600)
    expected = 0
    with client.files.with_streaming_response.content(file_id) as answer:
        for line in answer.iter_lines():
            assert json.loads(line)["custom_id"] == f"c{expected}", (expected, line[:200])
            expected += 1
    assert expected == lines, expected
    return expected


if __name__ == "__main__":
    main()
