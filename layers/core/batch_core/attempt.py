"""One attempt's calls: lines grouped by route and model, each group's capacity taken from the shared limiter
in one block, the granted lines started on the limiter's schedule, and what they met reported back."""

import random
import time
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from batch_core.errors import StorageError
from batch_core.flow.estimate import counted_tokens, estimated_tokens
from batch_core.flow.shared import SharedLimiter
from batch_core.models.batch import Batch
from batch_core.models.limit import Grant, RateHeaders, Report
from batch_core.models.line import LineResult, RequestLine
from batch_core.models.route import Route
from batch_core.models.work_unit import UnitRecord
from batch_core.observability import logger
from batch_core.settings import Settings
from batch_core.upstream import RetryLater, Throttled, UpstreamReply, Upstreams, run_line

Outcome = LineResult | RetryLater | Throttled | None


class Attempt:
    """`run` answers one outcome per line, None for a line that did not start (held back for capacity, or no
    time left to finish it): it spent no attempt. `waits` are when held-back lines may have capacity."""

    def __init__(
        self,
        settings: Settings,
        batch: Batch,
        unit: UnitRecord,
        upstreams: Upstreams,
        limiter: SharedLimiter,
        holder: str,
    ):
        self.settings = settings
        self.batch = batch
        self.unit = unit
        self.upstreams = upstreams
        self.limiter = limiter
        self.holder = holder
        self.waits: list[float] = []
        self.held = 0
        self.latencies: list[float] = []

    def run(self, pending: list[tuple[int, RequestLine]], save_by: float) -> list[Outcome]:
        """Runs the lines in parallel; a line starts only if its upstream call can end before `save_by`
        (a `time.monotonic()` instant), so the attempt saves what finished before its invocation ends."""
        start_by = save_by - self.settings.upstream_timeout_seconds
        if not pending or time.monotonic() > start_by:
            return [None] * len(pending)
        self.upstreams.refresh()
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        routes: dict[str, Route] = {}
        route_of: dict[int, Route] = {}
        for position, (_, line) in enumerate(pending):
            model = str(line.body.get("model") or "")
            route = route_of[position] = self.upstreams.route_for(model)
            routes[route.name] = route
            groups[(route.name, model)].append(position)
        starts: dict[int, float] = {}
        until = time.time() + (save_by - time.monotonic())
        estimates = {position: estimated_tokens(pending[position][1].body) for position in range(len(pending))}
        # A new container connects to its routes (reading their keys) while the limiter grants the lines.
        with ThreadPoolExecutor(max_workers=len(routes)) as connecting:
            for route in routes.values():
                connecting.submit(self.upstreams.client, route)
            for (route_name, model), positions in groups.items():
                grant = self._take(routes[route_name], model, [estimates[position] for position in positions], until)
                begun = time.monotonic()
                for position, offset in zip(positions, grant.offsets, strict=False):
                    starts[position] = begun + offset
                if grant.count < len(positions):
                    self.waits.append(grant.wait)
                    self.held += len(positions) - grant.count

        rates: dict[int, RateHeaders | None] = {}
        bodies = {index: line.body for index, line in pending}

        def call(position: int) -> Outcome:
            start = starts.get(position)
            if start is None or max(start, time.monotonic()) > start_by:
                return None
            time.sleep(max(0.0, start - time.monotonic()))
            index, line = pending[position]
            client = _Watched(self.upstreams.client(route_of[position]))
            attempt = self.unit.retries.get(index, 0) + 1
            outcome = run_line(client, self.batch.endpoint, index, line, attempt, self.settings)
            rates[position] = client.rate
            if client.seconds is not None:
                self.latencies.append(client.seconds)
            return outcome

        workers = max(1, min(len(starts) or 1, self.settings.line_concurrency))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(call, range(len(pending))))
        self.held += sum(1 for outcome in outcomes if isinstance(outcome, Throttled))
        for (route_name, model), positions in groups.items():
            seen = _report(positions, starts, outcomes, estimates, rates, bodies)
            self._report(routes[route_name], model, seen)
        return outcomes

    def _take(self, route: Route, model: str, estimates: list[int], until: float) -> Grant:
        """The limiter's grant; when the limiter cannot be reached, the lines wait as if it had refused them."""
        try:
            return self.limiter.take(
                route, model, estimates, tenant=self.batch.tenant_id, holder=self.holder, until=until
            )
        except StorageError as failed:
            logger.warning("limiter unavailable", extra={"route": route.name, "model": model, "error": str(failed)})
            return Grant(count=0, wait=random.uniform(1.0, 3.0), reason="limiter_unavailable")

    def _report(self, route: Route, model: str, seen: Report) -> None:
        """A report that cannot be written is lost: the lease it would end runs out by itself."""
        try:
            self.limiter.report(route, model, self.holder, seen)
        except StorageError as failed:
            logger.warning("limiter report lost", extra={"route": route.name, "model": model, "error": str(failed)})


class _Watched:
    """The route's client, keeping the rate-limit headers of the answer it got and how long it took."""

    def __init__(self, client: Any):
        self._client = client
        self.rate: RateHeaders | None = None
        self.seconds: float | None = None

    def post(self, endpoint: str, body: dict[str, Any]) -> UpstreamReply:
        started = time.monotonic()
        reply = self._client.post(endpoint, body)
        self.seconds = time.monotonic() - started
        self.rate = reply.rate
        return reply


def _report(
    positions: list[int],
    granted: Collection[int],
    outcomes: list[Outcome],
    estimates: dict[int, int],
    rates: dict[int, RateHeaders | None],
    bodies: dict[int, dict[str, Any]],
) -> Report:
    """What the group's calls saw. Every granted line's estimate is settled against the tokens its answer
    used: a line refused, or never started, used none."""
    sent = [position for position in positions if outcomes[position] is not None]
    throttled = [outcome for position in sent if isinstance(outcome := outcomes[position], Throttled)]
    succeeded = [outcome for position in sent if isinstance(outcome := outcomes[position], LineResult)]
    used = sum(counted_tokens(bodies[result.index], result.usage) for result in succeeded if result.usage)
    told = [rate for position in sent if (rate := rates.get(position))]
    return Report(
        sent=len(sent),
        succeeded=sum(1 for result in succeeded if result.status == "succeeded"),
        throttled=len(throttled),
        retry_after=max((outcome.delay for outcome in throttled), default=None),
        estimated_tokens=sum(estimates[position] for position in positions if position in granted),
        used_tokens=used,
        headers=told[-1] if told else None,
    )
