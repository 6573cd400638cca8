"""The simulator's rate-limit mode answers like OpenAI past its pace."""

import json

import urllib3

from embedded.rate_limits import parse_limits
from embedded.simulator import Simulator


def test_past_its_burst_the_simulator_answers_429_with_retry_after_and_rate_limit_headers() -> None:
    simulator = Simulator(rate_limits=parse_limits("gpt-4o-mini=120", None)).start()
    http = urllib3.PoolManager()
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    try:
        answers = [http.request("POST", simulator.base_url + "/chat/completions", body=body) for _ in range(4)]
        other = http.request("POST", simulator.base_url + "/chat/completions", body=body.replace("-mini", ""))
    finally:
        simulator.stop()

    assert [answer.status for answer in answers[:2]] == [200, 200]
    refused = answers[2]
    assert refused.status == 429 and json.loads(refused.data)["error"]["code"] == "rate_limit_exceeded"
    assert refused.headers["retry-after"] == "1" and refused.headers["x-ratelimit-limit-requests"] == "120"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert (other.status, other.headers.get("x-ratelimit-limit-requests")) == (200, None)
    assert (simulator.rate_limits.admitted, simulator.rate_limits.refused) == (2, 2)


def test_limits_read_as_one_number_for_every_model_or_per_model() -> None:
    limits = parse_limits("gpt-4o-mini=600,*=60", "gpt-4o-mini=100000")

    assert {model: (limit.requests_per_minute, limit.tokens_per_minute) for model, limit in limits.items()} == {
        "gpt-4o-mini": (600.0, 100000.0),
        "*": (60.0, None),
    }
