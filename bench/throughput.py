"""Throughput against the upstream-bound ideal, beside a plain client-side asyncio runner.

    python -m bench.throughput [--latency 1.0] [--lines 10000] [--concurrency 64] [--unit-lines 8]

The simulator answers every request after `latency` seconds. The local stack runs the batch with
concurrency/unit-lines executor pollers, each running its unit's lines at once, so `concurrency`
lines are in flight, as the asyncio runner keeps them. Ideal: concurrency / latency lines/s."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

from openai import AsyncOpenAI

from bench.common import free_port
from embedded.simulator import Simulator

KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--unit-lines", type=int, default=8)
    arguments = parser.parse_args()
    simulator = Simulator(latency_seconds=arguments.latency).start()
    try:
        ideal = arguments.concurrency / arguments.latency
        service = run_service(arguments, simulator.base_url)
        runner = asyncio.run(run_client(arguments, simulator.base_url))
    finally:
        simulator.stop()
    print(f"L={arguments.latency}s C={arguments.concurrency} N={arguments.lines}: ideal {ideal:.1f} lines/s")
    ratios = f"{service / ideal:.2f} x ideal = {service / runner:.2f} x runner"
    print(f"  service (local stack): {service:.1f} lines/s = {ratios}")
    print(f"  asyncio runner:        {runner:.1f} lines/s = {runner / ideal:.2f} x ideal")


def run_service(arguments: argparse.Namespace, upstream: str) -> float:
    port = free_port()
    pollers = max(2, arguments.concurrency // arguments.unit_lines)
    environment = {
        **os.environ,
        "BATCH_API_KEY": KEY,
        "UPSTREAM_BASE_URL": upstream,
        "UPSTREAM_API_KEY": "unused",
        "WORK_UNIT_LINES": str(arguments.unit_lines),
        "LINE_CONCURRENCY": str(arguments.unit_lines),
        "EXECUTOR_CONCURRENCY": str(pollers),
        "MAX_LINES_PER_BATCH": str(arguments.lines),
        "WATCHDOG_SECONDS": "10",
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "embedded", "--port", str(port)], env=environment, stdout=subprocess.PIPE, text=True
    )
    try:
        assert stack.stdout is not None
        while not stack.stdout.readline().startswith("Ready on"):
            pass
        requests = [_request(n) for n in range(arguments.lines)]
        started = time.monotonic()
        batch = _call(
            port, "POST", "/api/client/v1/batches", {"endpoint": "/v1/chat/completions", "requests": requests}
        )
        while batch["status"] not in ("completed", "failed", "expired", "cancelled"):
            time.sleep(0.2)
            batch = _call(port, "GET", f"/api/client/v1/batches/{batch['id']}")
        assert batch["request_counts"]["completed"] == arguments.lines, batch["request_counts"]
        return arguments.lines / (time.monotonic() - started)
    finally:
        stack.kill()  # its clean shutdown is the e2e tests' concern; here it would only add time
        stack.wait()


async def run_client(arguments: argparse.Namespace, upstream: str) -> float:
    """What a user would write instead: the same lines, the same concurrency, straight at the upstream."""
    client = AsyncOpenAI(base_url=upstream, api_key="unused", max_retries=5)
    gate = asyncio.Semaphore(arguments.concurrency)

    async def one(n: int) -> None:
        async with gate:
            await client.chat.completions.create(**_request(n)["body"])

    started = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(arguments.lines)))
    return arguments.lines / (time.monotonic() - started)


def _request(n: int) -> dict[str, Any]:
    return {
        "custom_id": f"t{n}",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n}"}]},
    }


def _call(port: int, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {KEY}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


if __name__ == "__main__":
    main()
