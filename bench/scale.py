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
from typing import Any

from batch_core.dal.stores import Stores
from batch_core.settings import Settings
from bench.common import wait_for_port
from embedded.ports import free_port

IDEAL_RSS_MB = 256
BENCH_SETTINGS: dict[str, Any] = {
    "max_lines_per_batch": 1_000_000,
    "line_concurrency": 64,
    "upstream_api_key_secret": "",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--line-bytes", type=int, default=400, help="approximate size of one input line")
    parser.add_argument("--unit-lines", type=int, default=500, help="lines per work unit (the template's default: 50)")
    arguments = parser.parse_args()
    BENCH_SETTINGS["work_unit_lines"] = arguments.unit_lines
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
        # boto3's own environment: where AWS is (this size's moto server) and its credentials; the
        # spawned children inherit it. What the core reads goes to it as explicit Settings.
        os.environ.update(_aws_environment(port))
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "input.jsonl"
            input_mb = _write_input(source, lines, line_bytes)
            settings, batch_id = _setup(source, lines)
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            prepare_s, prepare_mb = pool.apply(_timed, ("prepare", settings, batch_id))
        _run_units(settings, batch_id)
        with context.Pool(1) as pool:
            finalize_s, finalize_mb = pool.apply(_timed, ("finalize", settings, batch_id))
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


def _setup(source: Path, lines: int) -> tuple[Settings, str]:
    """Deploys the template into the moto server and stores a batch whose input is the file; returns the
    settings of the deployed resources and the batch's id."""
    from batch_core.models.batch import Batch
    from embedded.simulator import Simulator
    from embedded.template import deploy

    simulator = Simulator().start()
    stack = deploy(parameters={"UpstreamBaseUrl": simulator.base_url})
    deployed = {name.lower(): value for name, value in stack.environment().items()}
    settings = Settings(**{name: deployed[name] for name in Settings.model_fields if name in deployed} | BENCH_SETTINGS)
    stores = Stores.from_settings(settings)
    now = int(time.time())
    batch_id = f"batch_bench{now:x}{lines}"
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


def _run_units(settings: Settings, batch_id: str) -> None:
    from batch_core.executor import run_work_unit
    from batch_core.models.work_unit import WorkUnit
    from batch_core.upstream import Upstreams

    stores = Stores.from_settings(settings)
    upstreams = Upstreams.from_settings(settings, stores)
    units = [WorkUnit(**unit.model_dump(include=set(WorkUnit.model_fields))) for unit in stores.units.list(batch_id)]

    def run(unit: WorkUnit) -> float | None:
        deadline = time.monotonic() + 900
        return run_work_unit(stores, settings, unit, upstreams, delivery=f"bench-{unit.unit}", deadline=deadline)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, units))


def _timed(step: str, settings: Settings, batch_id: str) -> tuple[float, float]:
    """Runs prepare or finalize in this (fresh) process; returns seconds and peak RSS in MB."""
    from batch_core.finalize import finalize_batch
    from batch_core.prepare import prepare_batch

    stores = Stores.from_settings(settings)
    started = time.perf_counter()
    if step == "prepare":
        prepare_batch(stores, settings, batch_id)
    else:
        finalize_batch(stores, settings, batch_id, "completed")
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
