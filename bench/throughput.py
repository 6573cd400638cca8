"""Throughput against the upstream-bound ideal, beside a plain client-side asyncio runner.

    python -m bench.throughput [--latency 1.0] [--lines 10000] [--concurrency 64] [--unit-lines 256]
                               [--line-concurrency 8]

The simulator answers every request after `latency` seconds. The local stack runs the batch with
concurrency / line-concurrency executor pollers, each running its unit's lines line-concurrency at a
time, so `concurrency` lines are in flight, as the asyncio runner keeps them. Ideal: concurrency /
latency lines/s. Beside the rate: the mean number of requests the simulator had in flight, the time
from the create call to the first request, from the last answer to the terminal status, and the
CPU time per line of the process doing the work (the stack; for the runner, the bench process,
simulator included)."""

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from openai import AsyncOpenAI

from bench.common import TERMINAL, StackProcess, chat_request, local_stack
from embedded.simulator import Load, Simulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--unit-lines", type=int, default=256)
    parser.add_argument("--line-concurrency", type=int, default=8)
    arguments = parser.parse_args()
    simulator = Simulator(latency_seconds=arguments.latency).start()
    try:
        ideal = arguments.concurrency / arguments.latency
        service = run_service(arguments, simulator)
        runner = asyncio.run(run_client(arguments, simulator))
    finally:
        simulator.stop()
    print(f"L={arguments.latency}s C={arguments.concurrency} N={arguments.lines}: ideal {ideal:.1f} lines/s")
    columns = ("lines/s", "x ideal", "x runner", "in flight", "to 1st line", "to terminal", "CPU ms/line")
    print(f"  {'':<22}" + " ".join(f"{column:>11}" for column in columns))
    for name, run in (("service (local stack)", service), ("asyncio runner", runner)):
        print(
            f"  {name:<22}{run.lines_per_second:>11.1f} {run.lines_per_second / ideal:>11.2f} "
            f"{run.lines_per_second / runner.lines_per_second:>11.2f} {run.mean_in_flight:>11.1f} "
            f"{run.to_first_line:>10.2f}s {run.to_terminal:>10.2f}s {run.cpu_ms_per_line:>11.1f}"
        )


@dataclass
class Run:
    """One way of running the lines: its rate, and where its time went beside the upstream's."""

    lines_per_second: float
    mean_in_flight: float
    to_first_line: float
    to_terminal: float
    cpu_ms_per_line: float

    @classmethod
    def measured(cls, lines: int, started: float, ended: float, load: Load, cpu_seconds: float) -> "Run":
        assert load.first_started is not None and load.last_ended is not None
        return cls(
            lines_per_second=lines / (ended - started),
            mean_in_flight=load.mean_in_flight,
            to_first_line=load.first_started - started,
            to_terminal=ended - load.last_ended,
            cpu_ms_per_line=cpu_seconds * 1000 / lines,
        )


def run_service(arguments: argparse.Namespace, simulator: Simulator) -> Run:
    settings = {
        "UPSTREAM_BASE_URL": simulator.base_url,
        "UPSTREAM_API_KEY": "unused",
        "WORK_UNIT_LINES": str(arguments.unit_lines),
        "LINE_CONCURRENCY": str(arguments.line_concurrency),
        "EXECUTOR_CONCURRENCY": str(max(1, arguments.concurrency // arguments.line_concurrency)),
        "MAX_LINES_PER_BATCH": str(arguments.lines),
        "WATCHDOG_SECONDS": "10",
    }
    with local_stack(settings) as stack:
        return run_batch(stack, simulator, arguments.lines)


def run_batch(stack: StackProcess, simulator: Simulator, lines: int) -> Run:
    """Creates a batch of `lines` inline chat lines and waits for its terminal status."""
    requests = [chat_request(n) for n in range(lines)]
    body = {"endpoint": "/v1/chat/completions", "requests": requests}
    return timed_batch(stack, simulator, lines, lambda: stack.call("POST", "/api/client/v1/batches", body)["id"])


def timed_batch(stack: StackProcess, simulator: Simulator, lines: int, create: Callable[[], str]) -> Run:
    """Times a batch from the `create` call (which returns its id) until the batch ends."""
    simulator.load.reset()
    cpu = stack.cpu_seconds()
    started = time.monotonic()
    batch = {"id": create(), "status": "validating"}
    while batch["status"] not in TERMINAL:
        time.sleep(0.05 if simulator.load.requests >= lines else 1.0)  # polls cost the stack CPU
        batch = stack.call("GET", f"/api/client/v1/batches/{batch['id']}")
    ended = time.monotonic()
    assert batch["request_counts"]["completed"] == lines, batch["request_counts"]
    return Run.measured(lines, started, ended, simulator.load, stack.cpu_seconds() - cpu)


async def run_client(arguments: argparse.Namespace, simulator: Simulator) -> Run:
    """What a user would write instead: the same lines, the same concurrency, straight at the upstream."""
    simulator.load.reset()
    client = AsyncOpenAI(base_url=simulator.base_url, api_key="unused", max_retries=5)
    gate = asyncio.Semaphore(arguments.concurrency)

    async def one(n: int) -> None:
        async with gate:
            await client.chat.completions.create(**chat_request(n)["body"])

    cpu = _process_cpu_seconds()
    started = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(arguments.lines)))
    ended = time.monotonic()
    return Run.measured(arguments.lines, started, ended, simulator.load, _process_cpu_seconds() - cpu)


def _process_cpu_seconds() -> float:
    """This process's CPU time: the runner's, and the simulator's, which shares the process."""
    times = os.times()
    return times.user + times.system


if __name__ == "__main__":
    main()
