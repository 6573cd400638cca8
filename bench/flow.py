"""Flow control against rate-limited upstreams: pace, failures and throttled calls, fairness, two routes.

    python -m bench.flow [--lines 3000] [--rps 20] [--scenario all|requests|tokens|tenants|routes]

The simulator runs in this process (the stack reaches it as a real upstream through UPSTREAM_BASE_URL /
UPSTREAMS), so its counters are read here. Its limit: `rps` requests a second (a bucket holding one
second's worth), answering 429 with Retry-After and OpenAI's x-ratelimit-* headers past it.

- requests: a `lines`-line batch with the limit configured in UPSTREAMS, then learned (not configured).
  Ideal: pace = the limit, 0 lines failed; targets: pace >= 0.9 x limit, throttled <= 5 % (configured) and
  <= 20 % (learned) of admitted calls.
- tokens: lines / 5 lines of mixed size against a tokens-per-minute limit (configured).
- tenants: tenant b creates a 40-line batch 8 s after tenant a's `lines`-line one. Ideal: b finishes in its
  fair share, 40 / (limit / 2) s; target within 2 x, long before a ends.
- routes: one batch, half its lines for a model on an upstream at `rps`, half for a model on a second
  upstream at rps / 2: each should run at its own limit."""

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

from bench.common import local_stack
from embedded.rate_limits import ModelLimit
from embedded.simulator import Simulator

KEYS = {"tenant-a": "bench-key-a", "tenant-b": "bench-key-b"}
BATCHES = "/api/client/v1/batches"


@dataclass
class Outcome:
    lines: int
    seconds: float
    failed: int
    admitted: int
    refused: int
    pace: float

    def row(self, name: str, limit: float) -> str:
        refused = self.refused / max(1, self.admitted)
        return (
            f"  {name:<28}{self.lines:>7} {self.seconds:>8.1f}s {self.pace:>9.1f} {self.pace / limit:>8.2f}"
            f" {self.failed:>7} {self.admitted:>9} {self.refused:>8} {refused:>9.1%}"
        )


HEADER = (
    f"  {'':<28}{'lines':>7} {'wall':>9} {'lines/s':>9} {'x limit':>8} {'failed':>7} {'admitted':>9}"
    f" {'429s':>8} {'429/adm.':>9}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--rps", type=float, default=20.0)
    parser.add_argument("--scenario", default="all", choices=["all", "requests", "tokens", "tenants", "routes"])
    arguments = parser.parse_args()
    chosen = ("requests", "tokens", "tenants", "routes") if arguments.scenario == "all" else (arguments.scenario,)
    for scenario in chosen:
        globals()[f"run_{scenario}"](arguments.lines, arguments.rps)


def run_requests(lines: int, rps: float) -> None:
    print(f"requests: {lines} lines, upstream limit {rps:g} requests/s")
    print(HEADER)
    for name, limits in (("limit configured", {"requests_per_minute": rps * 60}), ("limit learned", None)):
        simulator = Simulator(latency_seconds=0.2, rate_limits={"*": ModelLimit(requests_per_minute=rps * 60)})
        with Started(simulator, limits) as stack:
            outcome = run_batch(stack, simulator, [chat(n, f"line {n}") for n in range(lines)])
        print(outcome.row(name, rps))


def run_tokens(lines: int, rps: float) -> None:
    tpm, lines = 120_000.0, lines // 5
    print(f"tokens: {lines} lines of mixed size, upstream limit {tpm:g} tokens/min (configured)")
    print(HEADER)
    simulator = Simulator(latency_seconds=0.2, rate_limits={"*": ModelLimit(tokens_per_minute=tpm)})
    sizes = [5, 20, 80, 200]
    requests = [chat(n, " ".join(["word"] * sizes[n % len(sizes)]), max_tokens=64) for n in range(lines)]
    with Started(simulator, {"tokens_per_minute": tpm}) as stack:
        outcome = run_batch(stack, simulator, requests)
    tokens_per_line = sum(size + 64 for size in sizes) / len(sizes)
    print(outcome.row("tokens limit configured", tpm / 60 / tokens_per_line))
    print(f"  (the limit in lines/s: {tpm / 60 / tokens_per_line:.1f} at {tokens_per_line:.0f} tokens a line)")


def run_tenants(lines: int, rps: float) -> None:
    print(f"tenants: tenant b's 40 lines created 8 s after tenant a's {lines}, limit {rps:g} requests/s")
    simulator = Simulator(latency_seconds=0.2, rate_limits={"*": ModelLimit(requests_per_minute=rps * 60)})
    with Started(simulator, {"requests_per_minute": rps * 60}) as stack:
        started_at = time.monotonic()
        big = create(stack, "tenant-a", [chat(n, f"a {n}") for n in range(lines)])
        time.sleep(8)
        small_at = time.monotonic()
        small = create(stack, "tenant-b", [chat(n, f"b {n}") for n in range(40)])
        small_done = wait(stack, "tenant-b", small)
        small_seconds = time.monotonic() - small_at
        big_done = wait(stack, "tenant-a", big, timeout=lines / rps * 4 + 120)
        big_seconds = time.monotonic() - started_at
    fair = 40 / (rps / 2)
    ratio = small_seconds / fair
    print(f"  small batch: {small_seconds:.1f}s ({small_done['status']}); fair share {fair:.1f}s -> {ratio:.2f} x")
    ahead = big_seconds - 8 - small_seconds
    print(f"  big batch:   {big_seconds:.1f}s ({big_done['status']}); the small one ended {ahead:.1f}s before it")


def run_routes(lines: int, rps: float) -> None:
    print(f"routes: one batch of {lines} lines, half to model-a (limit {rps:g}/s), half to model-b ({rps / 2:g}/s)")
    fast = Simulator(latency_seconds=0.2, rate_limits={"*": ModelLimit(requests_per_minute=rps * 60)}).start()
    slow = Simulator(latency_seconds=0.2, rate_limits={"*": ModelLimit(requests_per_minute=rps * 30)}).start()
    routes = [
        {"name": "a", "models": ["model-a"], "base_url": fast.base_url, "limits": {"requests_per_minute": rps * 60}},
        {"name": "b", "models": ["model-b"], "base_url": slow.base_url, "limits": {"requests_per_minute": rps * 30}},
    ]
    requests = [chat(n, f"line {n}", model="model-a" if n % 2 else "model-b") for n in range(lines)]
    try:
        with local_stack(environment(fast.base_url, routes)) as stack:
            batch = wait(stack, "tenant-a", create(stack, "tenant-a", requests), timeout=lines / rps * 4 + 120)
    finally:
        fast.stop()
        slow.stop()
    print(f"  batch {batch['status']}: {batch['request_counts']}")
    for name, simulator, limit in (("model-a", fast, rps), ("model-b", slow, rps / 2)):
        load = simulator.load
        pace = load.requests / max(1e-9, (load.last_ended or 0) - (load.first_started or 0))
        refused = simulator.rate_limits.refused
        print(
            f"  {name}: {pace:.1f} lines/s against {limit:g} ({pace / limit:.2f} x), {refused} 429s for {load.requests}"
        )


class Started:
    """The simulator started, and a local stack using it as its only upstream (with `limits` configured)."""

    def __init__(self, simulator: Simulator, limits: dict[str, float] | None):
        self.simulator = simulator.start()
        routes = [{"name": "default", "base_url": simulator.base_url, "limits": limits}] if limits else []
        self._stack = local_stack(environment(simulator.base_url, routes))

    def __enter__(self) -> Any:
        return self._stack.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)
        self.simulator.stop()


def environment(base_url: str, routes: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "BATCH_API_KEYS": ",".join(f"{tenant}={key}" for tenant, key in KEYS.items()),
        "UPSTREAM_BASE_URL": base_url,
        "UPSTREAM_API_KEY": "unused",
        "UPSTREAMS": json.dumps(routes),
        "MAX_LINES_PER_BATCH": "100000",
        "WATCHDOG_SECONDS": "10",
    }


def chat(n: int, text: str, model: str = "gpt-4o-mini", **options: Any) -> dict[str, Any]:
    return {"custom_id": f"l{n}", "body": {"model": model, "messages": [{"role": "user", "content": text}], **options}}


def create(stack: Any, tenant: str, requests: list[dict[str, Any]]) -> str:
    answer = stack.request(
        "POST", BATCHES, KEYS[tenant], {"endpoint": "/v1/chat/completions", "requests": requests}, timeout=120
    )
    assert answer.status == 201, answer.body[:300]
    return str(answer.json()["id"])


def wait(stack: Any, tenant: str, batch_id: str, timeout: float = 900) -> dict[str, Any]:
    return stack.wait_for_batch(batch_id, KEYS[tenant], timeout=timeout)


def run_batch(stack: Any, simulator: Simulator, requests: list[dict[str, Any]]) -> Outcome:
    simulator.load.reset()
    began = time.monotonic()
    batch = wait(stack, "tenant-a", create(stack, "tenant-a", requests), timeout=len(requests) * 0.5 + 300)
    seconds = time.monotonic() - began
    load = simulator.load
    pace = load.requests / max(1e-9, (load.last_ended or 0) - (load.first_started or 0))
    counts = batch["request_counts"]
    return Outcome(
        lines=counts["total"],
        seconds=seconds,
        failed=counts["failed"] + counts["expired"],
        admitted=simulator.rate_limits.admitted,
        refused=simulator.rate_limits.refused,
        pace=pace,
    )


if __name__ == "__main__":
    main()
