"""A tenant's quotas over real HTTP, through the `openai` package and the console: a create past one is a 429
naming it and what is in use, a file batch past one fails naming it, and what an ended batch held comes free."""

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import CONSOLE, KEY_A, STACK_ENVIRONMENT, RunningStack, chat_line
from tests.waiting import wait_for

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def quoted() -> Iterator[RunningStack]:
    """Every tenant may have 2 batches in progress holding 50 lines and 5,000 estimated tokens at most
    (a short chat line is estimated at about 260: its prompt and 256 answer tokens)."""
    environment = {"QUOTA_BATCHES_IN_PROGRESS": "2", "QUOTA_ENQUEUED_LINES": "50", "QUOTA_ENQUEUED_TOKENS": "5000"}
    running = RunningStack({**STACK_ENVIRONMENT, **environment})
    yield running
    assert running.stop() == 0


@pytest.fixture
def client(quoted: RunningStack) -> OpenAI:
    return OpenAI(base_url=quoted.base_url + "/v1", api_key=KEY_A, max_retries=0)


def _uploaded(client: OpenAI, tmp_path: Path, texts: list[str]) -> str:
    path = tmp_path / "input.jsonl"
    lines = [
        {"custom_id": f"q{n}", "method": "POST", "url": CHAT, "body": chat_line("", text)["body"]}
        for n, text in enumerate(texts)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with path.open("rb") as source:
        return client.files.create(file=source, purpose="batch").id


def _ended(client: OpenAI, batch_id: str, timeout: float = 60) -> openai.types.Batch:
    def ended() -> openai.types.Batch | None:
        batch = client.batches.retrieve(batch_id)
        return batch if batch.status in ("completed", "failed", "expired", "cancelled") else None

    return wait_for(ended, timeout)


def test_a_create_past_the_batches_in_progress_quota_is_a_rate_limit_error_until_one_ends(
    client: OpenAI, tmp_path: Path
) -> None:
    slow = _uploaded(client, tmp_path, ["hold [slow:2]"])
    running = [client.batches.create(input_file_id=slow, endpoint=CHAT, completion_window="24h") for _ in range(2)]

    with pytest.raises(openai.RateLimitError) as refused:
        client.batches.create(input_file_id=slow, endpoint=CHAT, completion_window="24h")
    client.batches.cancel(running[0].id)
    _ended(client, running[0].id)
    admitted = client.batches.create(input_file_id=slow, endpoint=CHAT, completion_window="24h")

    assert refused.value.status_code == 429
    assert (refused.value.code, refused.value.param) == ("quota_exceeded", "batches_in_progress")
    assert "quota batches_in_progress exceeded: 2 in use of 2" in refused.value.message
    assert _ended(client, admitted.id).status == "completed"
    assert _ended(client, running[1].id).status == "completed"


def test_a_file_batch_past_the_token_quota_fails_with_openais_code_and_holds_nothing(
    client: OpenAI, tmp_path: Path
) -> None:
    too_many = client.batches.create(
        input_file_id=_uploaded(client, tmp_path, [f"line {n}" for n in range(30)]),
        endpoint=CHAT,
        completion_window="24h",
    )

    failed = _ended(client, too_many.id)
    fits = _ended(
        client,
        client.batches.create(
            input_file_id=_uploaded(client, tmp_path, ["a", "b"]), endpoint=CHAT, completion_window="24h"
        ).id,
    )

    assert failed.status == "failed" and failed.request_counts.total == 0
    assert failed.errors.data[0].code == "token_limit_exceeded"
    assert "quota enqueued_tokens exceeded: 0 in use of 5,000" in failed.errors.data[0].message
    assert fits.status == "completed" and fits.request_counts.completed == 2


def test_a_console_create_past_the_line_quota_is_a_429_naming_it_and_stores_no_batch(quoted: RunningStack) -> None:
    before = quoted.call("GET", CONSOLE).json()["data"]

    answer = quoted.call(
        "POST", CONSOLE, body={"endpoint": CHAT, "requests": [chat_line(f"c{n}", "x") for n in range(60)]}
    )

    assert answer.status == 429
    assert answer.json()["quota"] == {"name": "enqueued_lines", "limit": 50, "in_use": 0, "requested": 60}
    assert "quota enqueued_lines exceeded" in answer.json()["error"]
    assert quoted.call("GET", CONSOLE).json()["data"] == before
