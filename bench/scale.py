"""Prepare and finalize at scale: wall time and peak RSS of each, in its own process, on a moto server.

    python -m bench.scale --lines 10000 50000 100000 [--line-bytes 400]

Each size gets a fresh moto server; the input is streamed into S3, prepare runs in a child process,
the work units run through the real executor against the simulator (not measured), then finalize
runs in another child process. A child's peak RSS is its whole life's peak (ru_maxrss), so the
growth from 10k to 100k lines is what the code holds, not the interpreter."""

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import wait_for_port
from embedded.ports import free_port

IDEAL_RSS_MB = 256
BENCH_SETTINGS = {"MAX_LINES_PER_BATCH": "1000000", "LINE_CONCURRENCY": "64"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--line-bytes", type=int, default=400, help="approximate size of one input line")
    parser.add_argument("--unit-lines", type=int, default=500, help="lines per work unit (the template's default: 50)")
    arguments = parser.parse_args()
    BENCH_SETTINGS["WORK_UNIT_LINES"] = str(arguments.unit_lines)
    header = f"{'lines':>8} {'input MB':>9} {'prepare s':>10} {'prepare MB':>11} {'finalize s':>11} {'finalize MB':>12}"
    print(f"{header}  (target: <= {IDEAL_RSS_MB} MB, flat)")
    for lines in arguments.lines:
        row = measure(lines, arguments.line_bytes)
        print(
            f"{lines:>8} {row['input_mb']:>9.1f} {row['prepare_s']:>10.1f} {row['prepare_mb']:>11.0f} "
            f"{row['finalize_s']:>11.1f} {row['finalize_mb']:>12.0f}",
            flush=True,
        )


def measure(lines: int, line_bytes: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        environment = _environment(port)
        os.environ.update(environment)
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "input.jsonl"
            input_mb = _write_input(source, lines, line_bytes)
            batch_id = _setup(source, lines)
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            prepare_s, prepare_mb = pool.apply(_timed, ("prepare", batch_id, environment))
        _run_units(batch_id)
        with context.Pool(1) as pool:
            finalize_s, finalize_mb = pool.apply(_timed, ("finalize", batch_id, environment))
        return {
            "input_mb": input_mb,
            "prepare_s": prepare_s,
            "prepare_mb": prepare_mb,
            "finalize_s": finalize_s,
            "finalize_mb": finalize_mb,
        }
    finally:
        server.kill()
        server.wait()


def _environment(port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **BENCH_SETTINGS,
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


def _setup(source: Path, lines: int) -> str:
    """Deploys the template into the moto server and stores a batch whose input is the file."""
    from batch_core.dal import storage
    from batch_core.dal.batches_db import put_new_batch_in_db
    from batch_core.dal.clients import reset_clients
    from batch_core.models.batch import Batch
    from batch_core.settings import get_settings
    from batch_core.upstream import default_upstream
    from embedded.simulator import Simulator
    from embedded.template import deploy

    simulator = Simulator().start()
    stack = deploy(parameters={"UpstreamBaseUrl": simulator.base_url})
    os.environ.update({**stack.environment(), **BENCH_SETTINGS, "UPSTREAM_API_KEY_SECRET": ""})
    for cache in (reset_clients, get_settings.cache_clear, default_upstream.cache_clear):
        cache()
    now = int(time.time())
    batch_id = f"batch_bench{now:x}{lines}"
    key = storage.input_key("bench", batch_id)
    writer = storage.ObjectWriter(key)
    with source.open("rb") as data:
        while chunk := data.read(8 * 1024 * 1024):
            writer.write(chunk)
    writer.close()
    batch = Batch(
        id=batch_id,
        tenant_id="bench",
        endpoint="/v1/chat/completions",
        status="validating",
        completion_window="24h",
        input_key=key,
        input_uploaded=True,
        created_at=now,
        expires_at=now + 86400,
    )
    put_new_batch_in_db(batch)
    return batch_id


def _run_units(batch_id: str) -> None:
    from batch_core.dal.units_db import list_units_in_db
    from batch_core.executor import run_work_unit
    from batch_core.models.work_unit import WorkUnit
    from batch_core.upstream import default_upstream

    units = [WorkUnit(**unit.model_dump(include=set(WorkUnit.model_fields))) for unit in list_units_in_db(batch_id)]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda unit: run_work_unit(
                    unit, default_upstream(), delivery=f"bench-{unit.unit}", deadline=time.monotonic() + 900
                ),
                units,
            )
        )


def _timed(step: str, batch_id: str, environment: dict[str, str]) -> tuple[float, float]:
    """Runs prepare or finalize in this (fresh) process; returns seconds and peak RSS in MB."""
    os.environ.update(environment)
    from batch_core.finalize import finalize_batch
    from batch_core.prepare import prepare_batch

    started = time.perf_counter()
    if step == "prepare":
        prepare_batch(batch_id)
    else:
        finalize_batch(batch_id, "completed")
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
