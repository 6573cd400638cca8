"""The OpenAI-compatible upstreams: one HTTP call per line attempt, and what its answer means."""

import json
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Self

import urllib3

from batch_core.dal.stores import Stores
from batch_core.flow.headers import rate_headers
from batch_core.models.limit import RateHeaders
from batch_core.models.line import LineError, LineResult, RequestLine
from batch_core.models.route import Route, RouteTable
from batch_core.models.usage import Usage
from batch_core.observability import logger
from batch_core.routing import load_routes
from batch_core.settings import Settings

_MAX_RETRY_AFTER_SECONDS = 86400.0


class UpstreamUnreachable(Exception):
    """No HTTP answer: a timeout or a connection error, named by its class only.

    The transport's own message names the upstream's host and port: it goes to the log, never to a tenant.
    """


@dataclass
class UpstreamReply:
    status: int
    body: bytes
    request_id: str | None
    retry_after: float | None
    rate: RateHeaders | None = None


@dataclass
class RetryLater:
    """A line that met a passing fault and should run again after `delay` seconds."""

    index: int
    delay: float


@dataclass
class Throttled:
    """A line the upstream refused for its rate limit: it spent no attempt and runs again after `delay`."""

    index: int
    delay: float
    rate: RateHeaders | None


class Upstream:
    def __init__(self, base_url: str, api_key: str, timeout_seconds: float, pool_size: int):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._http = urllib3.PoolManager(
            maxsize=pool_size,
            retries=False,
            # `total` bounds the whole call, so an attempt can plan around it (read alone is per read).
            timeout=urllib3.Timeout(connect=min(10.0, timeout_seconds), read=timeout_seconds, total=timeout_seconds),
        )

    def post(self, endpoint: str, body: dict[str, Any]) -> UpstreamReply:
        url = self.base_url + endpoint.removeprefix("/v1")
        try:
            answer = self._http.request("POST", url, body=json.dumps(body).encode(), headers=self._headers)
        except urllib3.exceptions.HTTPError as exc:
            raise UpstreamUnreachable(type(exc).__name__) from exc
        return UpstreamReply(
            status=answer.status,
            body=answer.data,
            request_id=answer.headers.get("x-request-id"),
            retry_after=retry_after_seconds(answer.headers.get("retry-after")),
            rate=rate_headers(answer.headers),
        )


class Upstreams:
    """The routing table and one HTTP client per route, made on first use: once per container. With `reload`,
    the table is read again every REFRESH_SECONDS, so a changed table reaches running containers."""

    REFRESH_SECONDS = 60.0

    def __init__(
        self, table: RouteTable, connect: Callable[[Route], Any], reload: Callable[[], RouteTable] | None = None
    ):
        self.table = table
        self._connect = connect
        self._reload = reload
        self._loaded = time.monotonic()
        self._clients: dict[tuple[str, str, str | None, str | None], Any] = {}
        self._connecting = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, stores: Stores) -> Self:
        def connect(route: Route) -> Upstream:
            if route.api_key_env:
                api_key = os.environ.get(route.api_key_env, "")
            else:
                api_key = stores.secrets.get(route.api_key_secret) if route.api_key_secret else ""
            return Upstream(route.base_url, api_key, settings.upstream_timeout_seconds, settings.line_concurrency)

        def reload() -> RouteTable:
            return load_routes(settings, stores.parameters)

        return cls(reload(), connect, reload)

    def refresh(self) -> None:
        if self._reload is not None and time.monotonic() - self._loaded >= self.REFRESH_SECONDS:
            self.table, self._loaded = self._reload(), time.monotonic()

    def route_for(self, model: str | None) -> Route:
        return self.table.route_for(model)

    def client(self, route: Route) -> Any:
        """The route's client: anything with `post(endpoint, body) -> UpstreamReply`."""
        identity = (route.name, route.base_url, route.api_key_secret, route.api_key_env)
        # A unit's lines start together on many threads: one of them reads the key, not each.
        with self._connecting:
            if identity not in self._clients:
                self._clients[identity] = self._connect(route)
            return self._clients[identity]


def run_line(
    upstream: Any, endpoint: str, index: int, line: RequestLine, attempt: int, settings: Settings
) -> LineResult | RetryLater | Throttled:
    """One attempt at one line. A rate limit (429) waits and spends no attempt; 5xx, transport faults and an
    exhausted quota retry while attempts remain."""
    started = int(time.time())
    try:
        reply = upstream.post(endpoint, line.body)
    except UpstreamUnreachable as fault:
        _log_unreachable(index, attempt, fault)
        if attempt < settings.max_line_attempts:
            return RetryLater(index, _backoff(attempt, settings))
        message = f"upstream unreachable after {attempt} attempts ({fault})"
        error = LineError(code="upstream_unreachable", message=message)
        return _failed(index, line, None, None, error, started)
    body = _json(reply.body)
    if reply.status == 429 and not _out_of_quota(body):
        return Throttled(index, reply.retry_after or _backoff(1, settings), reply.rate)
    if (reply.status == 429 or reply.status >= 500) and attempt < settings.max_line_attempts:
        return RetryLater(index, max(reply.retry_after or 0.0, _backoff(attempt, settings)))
    if 200 <= reply.status < 300:
        if not isinstance(body, dict):
            message = f"the upstream answered {reply.status} with a body that is not a JSON object"
            return _failed(
                index, line, reply, None, LineError(code="invalid_upstream_response", message=message), started
            )
        return LineResult(
            index=index,
            custom_id=line.custom_id,
            status="succeeded",
            status_code=reply.status,
            request_id=reply.request_id,
            body=body,
            usage=_usage(body.get("usage")),
            started_at=started,
            ended_at=int(time.time()),
        )
    return _failed(index, line, reply, body, _upstream_error(reply.status, body, attempt), started)


def _out_of_quota(body: Any) -> bool:
    """OpenAI's 429 `insufficient_quota` is a fault of the account, not a pace: waiting does not help."""
    detail = body.get("error") if isinstance(body, dict) else None
    return isinstance(detail, dict) and detail.get("code") == "insufficient_quota"


def _log_unreachable(index: int, attempt: int, fault: UpstreamUnreachable) -> None:
    """The tenant reads only the fault class; the address of the upstream stays in the log."""
    detail = f"{fault}: {fault.__cause__}" if fault.__cause__ else str(fault)
    logger.warning("upstream unreachable", extra={"line": index, "attempt": attempt, "error": detail})


def _failed(
    index: int, line: RequestLine, reply: UpstreamReply | None, body: Any, error: LineError, started: int
) -> LineResult:
    return LineResult(
        index=index,
        custom_id=line.custom_id,
        status="failed",
        status_code=reply.status if reply else None,
        request_id=reply.request_id if reply else None,
        body=body,
        error=error,
        started_at=started,
        ended_at=int(time.time()),
    )


def _upstream_error(status: int, body: Any, attempt: int) -> LineError:
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        code, message = str(detail.get("code") or detail.get("type") or f"http_{status}"), str(detail.get("message"))
    else:
        code, message = f"http_{status}", f"the upstream answered {status}"
    if status == 429 or status >= 500:
        message = f"{message} (gave up after {attempt} attempts)"
    return LineError(code=code, message=message)


def _usage(usage: Any) -> Usage:
    """An answer's usage, under either naming: chat and completions' (`prompt_tokens`, `*_tokens_details`)
    or responses' (`input_tokens`, `input_tokens_details`)."""
    if not isinstance(usage, dict):
        return Usage()
    prompt = _count(usage, "prompt_tokens", "input_tokens")
    completion = _count(usage, "completion_tokens", "output_tokens")
    cached = _count(_details(usage, "prompt_tokens_details", "input_tokens_details"), "cached_tokens")
    reasoning = _count(_details(usage, "completion_tokens_details", "output_tokens_details"), "reasoning_tokens")
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=prompt + completion,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
    )


def _details(usage: dict[str, Any], *names: str) -> dict[str, Any]:
    return next((usage[name] for name in names if isinstance(usage.get(name), dict)), {})


def _count(fields: dict[str, Any], *names: str) -> int:
    """The first of `names` that holds a whole number; 0 when none does (a missing or malformed count)."""
    for name in names:
        count = fields.get(name)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            return count
    return 0


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace") or None


def _backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with jitter: half the step fixed, half random, so retries spread out."""
    step = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
    return step / 2 + random.uniform(0, step / 2)


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds from the header (a number or an HTTP date), at most a day: a longer pause is no use to a window."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(0.0, seconds), _MAX_RETRY_AFTER_SECONDS) if math.isfinite(seconds) else None
