import json
import time
from email.utils import formatdate
from typing import Any

import pytest

from batch_core.models.line import LineResult, RequestLine
from batch_core.settings import Settings
from batch_core.upstream import RetryLater, Throttled, UpstreamReply, UpstreamUnreachable, retry_after_seconds, run_line

SETTINGS = Settings(max_line_attempts=3, retry_base_seconds=2, retry_max_seconds=10)
LINE = RequestLine(custom_id="c", url="/v1/chat/completions", body={"model": "m", "messages": []})


class ScriptedUpstream:
    """Answers each post with the next scripted reply (or raises it)."""

    def __init__(self, *replies: UpstreamReply | Exception):
        self.replies = list(replies)
        self.posts: list[tuple[str, dict[str, Any]]] = []

    def post(self, endpoint: str, body: dict[str, Any]) -> UpstreamReply:
        self.posts.append((endpoint, body))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def reply(status: int, body: bytes = b"{}", retry_after: float | None = None) -> UpstreamReply:
    return UpstreamReply(status=status, body=body, request_id="req_1", retry_after=retry_after)


def run(upstream: ScriptedUpstream, attempt: int = 1) -> LineResult | RetryLater:
    return run_line(upstream, "/v1/chat/completions", 4, LINE, attempt, SETTINGS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("usage", "cached", "reasoning"),
    [
        ({"prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 4}}, 3, 4),
        ({"input_tokens_details": {"cached_tokens": 2}, "output_tokens_details": {"reasoning_tokens": 1}}, 2, 1),
        ({"prompt_tokens_details": {"cached_tokens": "many"}, "completion_tokens_details": None}, 0, 0),
    ],
)
def test_cached_and_reasoning_tokens_are_read_from_either_naming_of_the_answers_usage(
    usage: dict[str, Any], cached: int, reasoning: int
) -> None:
    body = json.dumps({"usage": {"input_tokens": 9, "output_tokens": 8, **usage}}).encode()

    result = run(ScriptedUpstream(reply(200, body)))

    assert isinstance(result, LineResult) and result.usage is not None
    assert (result.usage.cached_tokens, result.usage.reasoning_tokens, result.usage.total_tokens) == (
        cached,
        reasoning,
        17,
    )


def test_success_records_body_usage_and_request_id() -> None:
    body = b'{"id": "x", "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}'

    result = run(ScriptedUpstream(reply(200, body)))

    assert isinstance(result, LineResult)
    assert result.status == "succeeded" and result.index == 4 and result.custom_id == "c"
    assert result.usage is not None and result.usage.model_dump() == {
        "input_tokens": 5,
        "output_tokens": 7,
        "total_tokens": 12,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
    assert result.request_id == "req_1" and result.body == {
        "id": "x",
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    result = run(ScriptedUpstream(reply(503, retry_after=30)))

    assert result == RetryLater(index=4, delay=30)


def test_a_rate_limit_is_no_failure_even_after_the_last_attempt() -> None:
    result = run(ScriptedUpstream(reply(429, retry_after=30)), attempt=3)

    assert result == Throttled(index=4, delay=30, rate=None)


@pytest.mark.parametrize("attempt", [1, 2])
def test_backoff_grows_exponentially_with_jitter(attempt: int) -> None:
    result = run(ScriptedUpstream(reply(503)), attempt)

    step = 2 * 2 ** (attempt - 1)
    assert isinstance(result, RetryLater)
    assert step / 2 <= result.delay <= step


def test_transport_faults_retry_then_fail_naming_the_fault_class() -> None:
    assert isinstance(run(ScriptedUpstream(UpstreamUnreachable("ReadTimeoutError"))), RetryLater)

    result = run(ScriptedUpstream(UpstreamUnreachable("ReadTimeoutError")), attempt=3)

    assert isinstance(result, LineResult) and result.status == "failed"
    assert result.error is not None and result.error.code == "upstream_unreachable"
    assert result.error.message == "upstream unreachable after 3 attempts (ReadTimeoutError)"


def test_a_4xx_other_than_429_fails_at_once_with_the_upstream_error() -> None:
    body = b'{"error": {"message": "bad model", "type": "invalid_request_error", "code": "model_not_found"}}'

    result = run(ScriptedUpstream(reply(404, body)))

    assert isinstance(result, LineResult) and result.status == "failed" and result.status_code == 404
    assert result.error is not None and result.error.model_dump() == {"code": "model_not_found", "message": "bad model"}


def test_the_last_allowed_5xx_fails_the_line_saying_how_many_attempts_ran() -> None:
    result = run(ScriptedUpstream(reply(503, b'{"error": {"message": "overloaded", "code": "server_busy"}}')), 3)

    assert isinstance(result, LineResult) and result.error is not None
    assert result.error.message == "overloaded (gave up after 3 attempts)"


def test_ok_status_with_a_non_json_body_fails_clearly() -> None:
    result = run(ScriptedUpstream(reply(200, b"<html>")))

    assert isinstance(result, LineResult) and result.status == "failed" and result.error is not None
    assert result.error.message == "the upstream answered 200 with a body that is not a JSON object"


def test_retry_after_may_be_an_http_date() -> None:
    delay = retry_after_seconds(formatdate(usegmt=True, timeval=time.time() + 20))

    assert delay is not None and 18 <= delay <= 20


@pytest.mark.parametrize(("header", "seconds"), [("inf", None), ("nan", None), ("1e300", 86400.0), ("-5", 0.0)])
def test_retry_after_is_at_most_a_day_and_never_unbounded(header: str, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds
