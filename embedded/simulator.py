"""An OpenAI-compatible upstream simulator on loopback: deterministic replies, real token counts,
configurable latency, and faults injected by markers in the request text:
`[fault:429x2]` (the first two requests with this body get 429 + Retry-After), `[fault:500x1]`,
`[fault:timeout]`, `[fault:notjson]`, `[fault:400]` (always), and `[slow:2]` (answers after two
seconds). A fault rate adds random 429s and 503s to the other requests. Rate limits per model
(`rate_limits`, see embedded/rate_limits.py) answer 429 past the pace, with OpenAI's headers.
It answers chat completions, embeddings, responses, completions and moderations (`[flag]` flags an input)."""

import hashlib
import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from embedded.http_server import LoopbackServer
from embedded.rate_limits import ModelLimit, RateLimiter

_FAULT = re.compile(r"\[fault:(\w+?)(?:x(\d+))?\]")
_SLOW = re.compile(r"\[slow:(\d+(?:\.\d+)?)\]")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_REASONING_MODEL = re.compile(r"^o\d")
_MODERATION_CATEGORIES = ("harassment", "hate", "illicit", "self-harm", "sexual", "violence")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


class Simulator:
    def __init__(
        self,
        *,
        latency_seconds: float = 0.0,
        fault_rate: float = 0.0,
        api_key: str | None = None,
        retry_after_seconds: float = 1.0,
        timeout_seconds: float = 5.0,
        rate_limits: dict[str, ModelLimit] | None = None,
    ):
        self.latency_seconds = latency_seconds
        self.fault_rate = fault_rate
        self._random = random.Random(7)
        self.api_key = api_key
        self.retry_after_seconds = retry_after_seconds
        self.timeout_seconds = timeout_seconds
        self.calls: Counter[str] = Counter()
        self.load = Load()
        self.rate_limits = RateLimiter(rate_limits or {})
        self._lock = threading.Lock()
        self._server = LoopbackServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="upstream-simulator", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "Simulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, authorization: str | None, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided to the simulator.")
        try:
            request = json.loads(body)
        except ValueError:
            return _error(400, "invalid_json", "The request body is not JSON.")
        text = _text(request)
        with self._lock:
            self.calls[text] += 1
            seen = self.calls[text]
            unlucky = self.fault_rate > 0 and self._random.random() < self.fault_rate
        admitted, limit_headers = self.rate_limits.admit(str(request.get("model")), _tokens_asked(request, text))
        if not admitted:
            status, headers, data = _error(429, "rate_limit_exceeded", "Rate limit reached for the simulator's model.")
            return status, {**headers, **limit_headers}, data
        status, headers, data = self._reply(path, request, text, seen, unlucky)
        return status, {**headers, **limit_headers}, data

    def _reply(
        self, path: str, request: dict[str, Any], text: str, seen: int, unlucky: bool
    ) -> tuple[int, dict[str, str], bytes]:
        fault = _FAULT.search(text)
        if fault and (fault.group(2) is None or seen <= int(fault.group(2))):
            return self._fault(fault.group(1))
        if unlucky and not fault:
            return self._fault("429" if seen % 2 else "503")
        slow = _SLOW.search(text)
        delay = float(slow.group(1)) if slow else self.latency_seconds
        with self.load.measure():
            if delay:
                time.sleep(delay)
        reply = _REPLIES.get(path.rsplit("/v1", 1)[-1])
        if reply is None:
            return _error(404, "unknown_url", f"The simulator does not serve {path}.")
        return 200, {"x-request-id": f"req_sim_{seen}"}, json.dumps(reply(request, text, seen)).encode()

    def _fault(self, kind: str) -> tuple[int, dict[str, str], bytes]:
        if kind == "timeout":
            time.sleep(self.timeout_seconds)
            return _error(504, "timeout", "The simulator timed out on purpose.")
        if kind == "notjson":
            return 200, {}, b"<html>not json</html>"
        status = int(kind) if kind.isdigit() else 500
        status, headers, body = _error(status, "simulated_fault", f"Simulated {status} from the upstream simulator.")
        if status == 429:
            headers["retry-after"] = str(self.retry_after_seconds)
        return status, headers, body


class Load:
    """When the first request began and the last one ended, and the requests' summed time in between:
    their ratio is how many requests were in flight on average."""

    def __init__(self) -> None:
        self.requests = 0
        self.first_started: float | None = None
        self.last_ended: float | None = None
        self.busy_seconds = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def measure(self) -> Iterator[None]:
        started = time.monotonic()
        with self._lock:
            self.first_started = started if self.first_started is None else self.first_started
        yield
        ended = time.monotonic()
        with self._lock:
            self.requests += 1
            self.last_ended = ended
            self.busy_seconds += ended - started

    @property
    def mean_in_flight(self) -> float:
        span = (self.last_ended or 0.0) - (self.first_started or 0.0)
        return self.busy_seconds / span if span > 0 else 0.0

    def reset(self) -> None:
        with self._lock:
            self.requests, self.first_started, self.last_ended, self.busy_seconds = 0, None, None, 0.0


def _text(request: dict[str, Any]) -> str:
    """The text a request asks about: its messages' contents, its prompt, or its input."""
    messages = request.get("messages")
    if messages is None and isinstance(request.get("input"), list):
        messages = [item for item in request["input"] if isinstance(item, dict) and "content" in item]
    if messages:
        parts = [message.get("content") for message in messages if isinstance(message, dict)]
        return " ".join(part if isinstance(part, str) else json.dumps(part) for part in parts)
    value = request.get("prompt", request.get("input", ""))
    return value if isinstance(value, str) else json.dumps(value)


def _tokens_asked(request: dict[str, Any], text: str) -> int:
    """What the request counts against a tokens-per-minute limit, as OpenAI counts it: its prompt, and the
    most the reply may hold (`max_tokens`), else the reply it gets."""
    prompt = count_tokens(text)
    most = request.get("max_completion_tokens") or request.get("max_tokens") or request.get("max_output_tokens")
    if "input" in request and not most:
        return prompt
    return prompt + (int(most) if most else prompt + 4)


@dataclass(frozen=True)
class _Tokens:
    """A reply's usage: a prompt seen before is read from the cache, and a reasoning model (o1, o3, o4-mini…)
    thinks as many tokens as it answers, counted in its output."""

    prompt: int
    completion: int
    cached: int
    reasoning: int

    @classmethod
    def of(cls, request: dict[str, Any], text: str, reply: str, seen: int) -> "_Tokens":
        prompt, answer = count_tokens(text), count_tokens(reply)
        reasoning = answer if _REASONING_MODEL.match(str(request.get("model"))) else 0
        return cls(prompt, answer + reasoning, prompt if seen > 1 else 0, reasoning)

    def chat_usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
            "prompt_tokens_details": {"cached_tokens": self.cached},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning},
        }


def _reply_text(text: str) -> str:
    return f"Simulated reply to: {text}"


def _chat(request: dict[str, Any], text: str, seen: int) -> dict[str, Any]:
    reply = _reply_text(text)
    return {
        "id": "chatcmpl-sim-" + _digest(text),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model"),
        "system_fingerprint": "upstream-simulator",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
        "usage": _Tokens.of(request, text, reply, seen).chat_usage(),
    }


def _completion(request: dict[str, Any], text: str, seen: int) -> dict[str, Any]:
    reply = _reply_text(text)
    return {
        "id": "cmpl-sim-" + _digest(text),
        "object": "text_completion",
        "created": int(time.time()),
        "model": request.get("model"),
        "choices": [{"index": 0, "text": reply, "logprobs": None, "finish_reason": "stop"}],
        "usage": _Tokens.of(request, text, reply, seen).chat_usage(),
    }


def _response(request: dict[str, Any], text: str, seen: int) -> dict[str, Any]:
    reply = _reply_text(text)
    tokens = _Tokens.of(request, text, reply, seen)
    message = {
        "type": "message",
        "id": "msg_sim_" + _digest(text),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": reply, "annotations": []}],
    }
    return {
        "id": "resp_sim_" + _digest(text),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": request.get("model"),
        "output": [message],
        "usage": {
            "input_tokens": tokens.prompt,
            "input_tokens_details": {"cached_tokens": tokens.cached},
            "output_tokens": tokens.completion,
            "output_tokens_details": {"reasoning_tokens": tokens.reasoning},
            "total_tokens": tokens.prompt + tokens.completion,
        },
    }


def _moderation(request: dict[str, Any], text: str, seen: int) -> dict[str, Any]:
    """Flags an input that says "[flag]", in every category; moderations answer no usage."""
    inputs = request["input"] if isinstance(request.get("input"), list) else [request.get("input", "")]
    results = []
    for item in inputs:
        flagged = "[flag]" in json.dumps(item)
        results.append(
            {
                "flagged": flagged,
                "categories": dict.fromkeys(_MODERATION_CATEGORIES, flagged),
                "category_scores": dict.fromkeys(_MODERATION_CATEGORIES, 0.99 if flagged else 0.001),
            }
        )
    return {"id": "modr-sim-" + _digest(text), "model": request.get("model"), "results": results}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _embeddings(request: dict[str, Any], text: str, seen: int) -> dict[str, Any]:
    inputs = request["input"] if isinstance(request.get("input"), list) else [request.get("input", "")]
    dimensions = int(request.get("dimensions") or 8)
    data = [
        {"object": "embedding", "index": n, "embedding": _vector(str(item), dimensions)}
        for n, item in enumerate(inputs)
    ]
    tokens = sum(count_tokens(str(item)) for item in inputs)
    return {
        "object": "list",
        "data": data,
        "model": request.get("model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


_REPLIES: dict[str, Callable[[dict[str, Any], str, int], dict[str, Any]]] = {
    "/chat/completions": _chat,
    "/embeddings": _embeddings,
    "/responses": _response,
    "/completions": _completion,
    "/moderations": _moderation,
}


def _vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[n % len(digest)] - 127.5) / 127.5 for n in range(dimensions)]
    norm = math.sqrt(sum(value * value for value in raw)) or 1.0
    return [round(value / norm, 6) for value in raw]


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error" if status < 500 else "server_error",
            "param": None,
            "code": code,
        }
    }
    return status, {}, json.dumps(body).encode()


def _handler_for(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, headers, data = simulator.answer(self.path, self.headers.get("authorization"), body)
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            return

    return Handler
