"""Create → first line running, and last line → terminal status, in the local stack.

    python -m bench.latency [--lines 50000] [--warm-lines 1000]

The input is uploaded and checked before the batch is created (`files.wait_for_processing`), so prepare
cuts its units without reading its lines again; the check's own time is printed beside.
Starts `python -m embedded` with the template's defaults (work units of 50 lines, 50 lines at once
per unit, 10 executors) and a simulator that answers at once, so the figures are the service's own
latency. The first batch meets cold functions; a second, smaller batch then starts warm.
First line: the simulator's first request. Last line: its last answer. Terminal: the first poll
that sees the batch completed (polled every 50 ms once every line has been answered)."""

import argparse
import json
import time

from openai import OpenAI

from bench.common import KEY, StackProcess, chat_request, local_stack
from bench.throughput import Run, timed_batch
from embedded.simulator import Simulator

TARGET_TO_FIRST_LINE = 2.0
TARGET_TO_TERMINAL = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--warm-lines", type=int, default=1000)
    arguments = parser.parse_args()
    simulator = Simulator().start()
    settings = {
        "UPSTREAM_BASE_URL": simulator.base_url,
        "UPSTREAM_API_KEY": "unused",
        "MAX_LINES_PER_BATCH": str(arguments.lines),
        "WATCHDOG_SECONDS": "10",
    }
    try:
        with local_stack(settings) as stack:
            runs = [(arguments.lines, "cold", run_file_batch(stack, simulator, arguments.lines))]
            runs.append((arguments.warm_lines, "warm", run_file_batch(stack, simulator, arguments.warm_lines)))
    finally:
        simulator.stop()
    print("Simulator answering at once; template defaults")
    header = f"{'create -> 1st line':>20}{'last line -> terminal':>23}{'lines/s':>10}{'CPU ms/line':>13}"
    header += f"{'upload -> checked':>19}"
    print(f"  {'lines':>7} {'start':<6}{header}")
    targets = f"{'<= ' + str(TARGET_TO_FIRST_LINE) + ' s':>20}{'<= ' + str(TARGET_TO_TERMINAL) + ' s':>23}"
    print(f"  {'target':>7} {'':<6}{targets}")
    for lines, start, (run, checked) in runs:
        print(
            f"  {lines:>7} {start:<6}{run.to_first_line:>18.2f} s{run.to_terminal:>21.2f} s"
            f"{run.lines_per_second:>10.1f}{run.cpu_ms_per_line:>13.1f}{checked:>17.2f} s"
        )


def run_file_batch(stack: StackProcess, simulator: Simulator, lines: int) -> tuple[Run, float]:
    """Uploads the lines as a file with the openai SDK and waits for its check, then times the batch from its
    create call; with the seconds from the upload's end to the file's check's end."""
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=KEY, max_retries=0)
    data = b"".join(
        json.dumps({**chat_request(n), "method": "POST", "url": "/v1/chat/completions"}).encode() + b"\n"
        for n in range(lines)
    )
    upload = client.uploads.upload_file_chunked(
        file=data,
        filename="input.jsonl",
        bytes=len(data),
        mime_type="application/jsonl",
        purpose="batch",
        part_size=4 * 1024 * 1024,
    )
    assert upload.file is not None
    file_id = upload.file.id
    uploaded = time.monotonic()
    client.files.wait_for_processing(file_id, poll_interval=0.1)
    checked = time.monotonic() - uploaded
    run = timed_batch(
        stack,
        simulator,
        lines,
        lambda: (
            client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h").id
        ),
    )
    return run, checked


if __name__ == "__main__":
    main()
