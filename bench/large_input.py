"""A ~200 MB, 50,000-line input through the local stack, as a user would send it.

    python -m bench.large_input [--lines 50000] [--line-bytes 4200]

Starts `python -m embedded`, uploads the file with the openai SDK's Uploads API (4 MB parts, each
under the API Gateway/Lambda limits), creates the batch, and waits for it. Prints the time of each
phase (prepare and finalize from the batch's own timestamps) and the stack process's peak RSS,
which includes moto's in-memory copy of everything stored."""

import argparse
import json
import tempfile
import time
from pathlib import Path

from openai import OpenAI

from bench.common import KEY, TERMINAL, local_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--line-bytes", type=int, default=4200)
    arguments = parser.parse_args()
    settings = {"MAX_LINES_PER_BATCH": str(arguments.lines), "WATCHDOG_SECONDS": "10"}
    with local_stack(settings) as stack:
        run(OpenAI(base_url=f"{stack.base_url}/v1", api_key=KEY, max_retries=0), arguments, stack.pid)


def run(client: OpenAI, arguments: argparse.Namespace, stack_pid: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.jsonl"
        padding = "x" * max(0, arguments.line_bytes - 150)
        with path.open("w") as out:
            for n in range(arguments.lines):
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n} {padding}"}]}
                out.write(
                    json.dumps({"custom_id": f"c{n}", "method": "POST", "url": "/v1/chat/completions", "body": body})
                    + "\n"
                )
        size_mb = path.stat().st_size / 1024 / 1024
        started = time.monotonic()
        upload = client.uploads.upload_file_chunked(
            file=path, mime_type="application/jsonl", purpose="batch", part_size=4 * 1024 * 1024
        )
        uploaded = time.monotonic()
    assert upload.file is not None
    batch = client.batches.create(
        input_file_id=upload.file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    while batch.status not in TERMINAL:
        time.sleep(1)
        batch = client.batches.retrieve(batch.id)
    ended = time.monotonic()
    assert batch.status == "completed", batch
    print(f"input: {arguments.lines} lines, {size_mb:.0f} MB")
    print(f"upload (4 MB parts): {uploaded - started:.1f} s")
    print(f"prepare (created -> in_progress): {batch.in_progress_at - batch.created_at} s")
    print(f"run (in_progress -> finalizing): {batch.finalizing_at - batch.in_progress_at} s")
    print(f"finalize (finalizing -> completed): {batch.completed_at - batch.finalizing_at} s")
    counts = batch.request_counts
    print(f"create -> completed: {ended - uploaded:.1f} s; completed {counts.completed}/{counts.total}")
    print(f"stack process peak RSS (moto holds every stored byte in it): {_peak_rss_mb(stack_pid):.0f} MB")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
