"""Prepare and finalize at scale: wall time and peak RSS of each, in its own process, on a moto server.

    python -m bench.scale --lines 10000 100000 1000000 --line-bytes 400 4000 [--unit-lines 50]

Each size gets a fresh moto server (with the local stack's fixes to moto, bench/moto_server.py); the input is
streamed into S3, prepare runs in a child process, the work units run in another child (each line answered in
process, echoing the prompt as the simulator does, and saved by the executor's own code, which assembles parts as
blocks finish), then finalize runs in a third child. A child's peak RSS is its whole life's peak (VmHWM),
interpreter and libraries included, so the growth from 10k to 1M lines is what the code holds."""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from batch_core.dal.stores import Stores
from batch_core.settings import Settings
from bench.common import wait_for_port
from embedded.ports import free_port

IDEAL_RSS_MB = 256
IDEAL_GROWTH_MB = 20
BENCH_SETTINGS: dict[str, Any] = {"max_lines_per_batch": 1_000_000}
RUNNERS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--line-bytes", type=int, nargs="+", default=[400], help="approximate size of one line")
    parser.add_argument("--unit-lines", type=int, default=50, help="lines per work unit (the template's default)")
    arguments = parser.parse_args()
    BENCH_SETTINGS["work_unit_lines"] = arguments.unit_lines
    header = (
        f"{'line B':>7} {'lines':>9} {'input MB':>9} {'prepare s':>10} {'prepare MB':>11} {'run s':>7} "
        f"{'run MB':>7} {'parts':>6} {'finalize s':>11} {'finalize MB':>12} {'output MB':>10}"
    )
    print(f"{header}  (target: <= {IDEAL_RSS_MB} MB, at most {IDEAL_GROWTH_MB} MB more at 1M than at 10k)")
    for line_bytes in arguments.line_bytes:
        for lines in arguments.lines:
            row = measure(lines, line_bytes)
            print(
                f"{line_bytes:>7} {lines:>9} {row['input_mb']:>9.1f} {row['prepare_s']:>10.1f} "
                f"{row['prepare_mb']:>11.0f} {row['run_s']:>7.1f} {row['run_mb']:>7.0f} {row['parts']:>6} "
                f"{row['finalize_s']:>11.1f} {row['finalize_mb']:>12.0f} {row['output_mb']:>10.1f}",
                flush=True,
            )


def measure(lines: int, line_bytes: int) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.moto_server", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        # boto3's own environment: where AWS is (this size's moto server) and its credentials; the
        # spawned children inherit it. What the core reads goes to it as explicit Settings.
        os.environ.update(_aws_environment(port))
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "input.jsonl"
            input_mb = _write_input(source, lines, line_bytes)
            settings, batch_id = _setup(source)
        row: dict[str, Any] = {"input_mb": input_mb}
        context = multiprocessing.get_context("spawn")
        for step in ("prepare", "run", "finalize"):
            with context.Pool(1) as pool:
                row[f"{step}_s"], row[f"{step}_mb"] = pool.apply(_timed, (step, settings, batch_id))
        stores = Stores.from_settings(settings)
        row["parts"] = len(list(stores.assembly.parts(batch_id)))
        batch = stores.batches.get(batch_id)
        assert batch is not None and batch.status == "completed", batch
        assert batch.request_counts.completed == lines, batch.request_counts
        output = stores.blobs.head(batch.output_key or "")
        row["output_mb"] = output.size / 1024 / 1024 if output else 0.0
        return row
    finally:
        server.kill()
        server.wait()


def _aws_environment(port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def _write_input(path: Path, lines: int, line_bytes: int) -> float:
    padding = "x" * max(0, line_bytes - 150)
    with path.open("w") as out:
        for n in range(lines):
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n} {padding}"}]}
            out.write(
                json.dumps({"custom_id": f"c{n}", "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n"
            )
    return path.stat().st_size / 1024 / 1024


def _setup(source: Path) -> tuple[Settings, str]:
    """Deploys the template into the moto server and stores a batch whose input is the file; returns the
    settings of the deployed resources and the batch's id."""
    from batch_core.models.batch import Batch
    from embedded.template import deploy

    stack = deploy(parameters={"UpstreamBaseUrl": "http://upstream.invalid/v1"})
    deployed = {name.lower(): value for name, value in stack.environment().items()}
    settings = Settings(**{name: deployed[name] for name in Settings.model_fields if name in deployed} | BENCH_SETTINGS)
    stores = Stores.from_settings(settings)
    now = int(time.time())
    batch_id = f"batch_bench{now:x}{source.stat().st_size}"
    key = stores.blobs.input_key("bench", batch_id)
    with stores.blobs.writer(key) as writer, source.open("rb") as data:
        while chunk := data.read(8 * 1024 * 1024):
            writer.write(chunk)
    batch = Batch(
        id=batch_id,
        tenant_id="bench",
        endpoint="/v1/chat/completions",
        status="validating",
        completion_window="24h",
        input_key=key,
        lines_from_file=True,
        created_at=now,
        expires_at=now + 86400,
    )
    stores.batches.put_new(batch)
    return settings, batch_id


def _run_units(stores: Stores, settings: Settings, batch_id: str) -> None:
    """Every unit once, eight at a time, as the executors would take them off the queue: claimed, its lines read
    from the input and each answered by `run_line` (the executor's own call of one line), then saved by the
    executor's `save_attempt`, which writes the attempt's object, commits the counters and assembles parts as
    blocks finish. What this leaves out of the executor is the line threads and the limiter, which set no state
    that prepare or finalize read, and would make a million lines take an hour here."""
    from batch_core.executor import save_attempt
    from batch_core.inputs import read_unit_lines
    from batch_core.upstream import run_line

    batch = stores.batches.get(batch_id)
    assert batch is not None
    echo = _Echo()

    def run(number: int) -> None:
        unit = stores.units.claim(batch_id, number, now=int(time.time()), lease_seconds=settings.lease_seconds)
        assert unit is not None
        lines = read_unit_lines(stores, batch, unit)
        results = [
            run_line(echo, batch.endpoint, line.index, line.request, 1, settings) for line in lines if line.request
        ]
        assert save_attempt(stores, settings, batch, unit, results, {})  # type: ignore[arg-type]

    with ThreadPoolExecutor(RUNNERS) as pool:
        list(pool.map(run, range(batch.units)))


class _Echo:
    """An upstream in this process: a chat completion repeating the prompt, as the simulator answers."""

    def post(self, endpoint: str, body: dict[str, Any]) -> Any:
        from batch_core.upstream import UpstreamReply

        prompt = body["messages"][-1]["content"]
        answer = {
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"Reply to: {prompt}"}}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(prompt) // 4 + 3},
        }
        return UpstreamReply(status=200, body=json.dumps(answer).encode(), request_id="echo", retry_after=None)


def _timed(step: str, settings: Settings, batch_id: str) -> tuple[float, float]:
    """Runs one step in this (fresh) process; returns seconds and peak RSS in MB."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' metrics print there; this process ends with the step
    from batch_core.finalize import finalize_batch
    from batch_core.prepare import prepare_batch

    stores = Stores.from_settings(settings)
    started = time.perf_counter()
    if step == "prepare":
        prepare_batch(stores, settings, batch_id)
    elif step == "run":
        _run_units(stores, settings, batch_id)
    else:
        finalize_batch(stores, settings, batch_id, "completed")
    return time.perf_counter() - started, _peak_rss_mb()


def _peak_rss_mb() -> float:
    """This process's peak RSS since it started its program. Not `ru_maxrss`: Linux keeps that across the exec of
    a spawned process, so it would be the parent's RSS at the spawn whenever that was higher."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


if __name__ == "__main__":
    main()
