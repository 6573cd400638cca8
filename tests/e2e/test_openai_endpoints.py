"""Every endpoint OpenAI's Batch API runs, through the `openai` package against the running stack: its lines
validated by their own rules, its answers in the output file, its usage in the batch's."""

import base64
import io
import json
import time
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from tests.e2e.conftest import CONSOLE, KEY_A, RunningStack, chat_line

CHAT = "/v1/chat/completions"
BUCKETS = "/api/client/v1/files/buckets"


@pytest.fixture
def client(stack: RunningStack) -> OpenAI:
    return OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)


def _run(client: OpenAI, endpoint: str, bodies: list[dict[str, Any]], **create: Any) -> Batch:
    lines = [{"custom_id": f"l{n}", "method": "POST", "url": endpoint, "body": body} for n, body in enumerate(bodies)]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = client.files.create(file=("lines.jsonl", io.BytesIO(data)), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint=endpoint,
        completion_window="24h",
        **create,  # type: ignore[arg-type]
    )
    deadline = time.monotonic() + 120
    while batch.status not in ("completed", "failed", "expired", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
        batch = client.batches.retrieve(batch.id)
    return batch


def _answers(client: OpenAI, batch: Batch) -> dict[str, Any]:
    assert batch.output_file_id, batch
    lines = client.files.content(batch.output_file_id).text.splitlines()
    return {json.loads(line)["custom_id"]: json.loads(line)["response"]["body"] for line in lines}


def test_responses_lines_answer_responses_and_count_their_usage(client: OpenAI) -> None:
    bodies = [
        {"model": "gpt-4.1-mini", "input": "say hi"},
        {"model": "gpt-4.1-mini", "input": [{"role": "user", "content": "and bye"}], "max_output_tokens": 30},
    ]

    batch = _run(client, "/v1/responses", bodies)
    answers = _answers(client, batch)

    assert (batch.status, batch.request_counts.completed, batch.model) == ("completed", 2, "gpt-4.1-mini")
    assert {answer["object"] for answer in answers.values()} == {"response"}
    assert "and bye" in answers["l1"]["output"][0]["content"][0]["text"]
    assert batch.usage.input_tokens == sum(answer["usage"]["input_tokens"] for answer in answers.values()) > 0
    assert batch.usage.output_tokens == sum(answer["usage"]["output_tokens"] for answer in answers.values()) > 0


def test_completions_lines_answer_text_completions(client: OpenAI) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "once upon", "max_tokens": 9}

    batch = _run(client, "/v1/completions", [body])
    answers = _answers(client, batch)

    assert batch.status == "completed"
    assert answers["l0"]["object"] == "text_completion" and "once upon" in answers["l0"]["choices"][0]["text"]
    assert batch.usage.total_tokens == answers["l0"]["usage"]["total_tokens"] > 0


def test_moderations_lines_answer_each_input_flagged_or_not(client: OpenAI) -> None:
    bodies = [{"model": "omni-moderation-latest", "input": ["a kind word", "something [flag] worthy"]}]

    batch = _run(client, "/v1/moderations", bodies)

    assert batch.status == "completed" and batch.model == "omni-moderation-latest"
    assert [result["flagged"] for result in _answers(client, batch)["l0"]["results"]] == [False, True]


@pytest.mark.parametrize(
    ("endpoint", "body", "named"),
    [
        ("/v1/responses", {"model": "m", "input": "x", "stream": True}, "body.stream"),
        ("/v1/responses", {"model": "m", "input": ""}, "body.input"),
        ("/v1/responses", {"model": "m", "input": "x", "background": True}, "body.background"),
        ("/v1/completions", {"model": "m"}, "body.prompt"),
        ("/v1/completions", {"model": "m", "prompt": "x", "messages": []}, "body.messages"),
        ("/v1/moderations", {"model": "m", "input": []}, "body.input"),
    ],
)
def test_a_line_breaking_its_endpoints_rules_fails_the_batch_naming_line_and_field(
    client: OpenAI, endpoint: str, body: dict[str, Any], named: str
) -> None:
    batch = _run(client, endpoint, [body])

    assert batch.status == "failed" and batch.errors and batch.errors.data
    assert batch.errors.data[0].line == 1 and batch.errors.data[0].param == named


def test_usage_reports_the_upstreams_cached_and_reasoning_tokens(client: OpenAI) -> None:
    same = {"model": "o3-mini", "messages": [{"role": "user", "content": "the same long question, twice"}]}

    batch = _run(client, "/v1/chat/completions", [same, same])
    answers = _answers(client, batch)

    cached = sum(answer["usage"]["prompt_tokens_details"]["cached_tokens"] for answer in answers.values())
    reasoning = sum(answer["usage"]["completion_tokens_details"]["reasoning_tokens"] for answer in answers.values())
    assert batch.usage.input_tokens_details.cached_tokens == cached > 0
    assert batch.usage.output_tokens_details.reasoning_tokens == reasoning > 0


def test_an_idempotency_key_on_v1_batches_makes_a_retried_create_return_the_first_batch(client: OpenAI) -> None:
    line = {"custom_id": "i", "method": "POST", "url": "/v1/embeddings", "body": {"model": "e", "input": "x"}}
    data = json.dumps(line)
    uploaded = client.files.create(file=("once.jsonl", io.BytesIO(data.encode())), purpose="batch")
    create = {"input_file_id": uploaded.id, "endpoint": "/v1/embeddings", "completion_window": "24h"}
    key = {"Idempotency-Key": f"retry-{uploaded.id}"}

    first = client.batches.create(**create, extra_headers=key)  # type: ignore[arg-type]
    again = client.batches.create(**create, extra_headers=key)  # type: ignore[arg-type]
    other = client.batches.create(**create)  # type: ignore[arg-type]

    assert again.id == first.id != other.id
    with pytest.raises(openai.ConflictError, match="Idempotency-Key"):
        client.batches.create(**{**create, "metadata": {"changed": "yes"}}, extra_headers=key)  # type: ignore[arg-type]


def test_an_idempotency_key_on_files_and_uploads_makes_a_retried_create_return_the_first_one(client: OpenAI) -> None:
    data = b'{"custom_id": "i", "method": "POST", "url": "/v1/embeddings", "body": {"model": "e", "input": "x"}}\n'
    key = {"Idempotency-Key": f"files-{time.time_ns()}"}

    files = [
        client.files.create(file=("once.jsonl", io.BytesIO(data)), purpose="batch", extra_headers=key) for _ in "ab"
    ]
    upload = {"filename": "u.jsonl", "purpose": "batch", "bytes": len(data), "mime_type": "application/jsonl"}
    uploads = [client.uploads.create(**upload, extra_headers=key) for _ in "ab"]  # type: ignore[arg-type]
    parts = [client.uploads.parts.create(uploads[0].id, data=data, extra_headers=key) for _ in "ab"]
    completed = client.uploads.complete(uploads[0].id, part_ids=[parts[0].id])

    assert files[0].id == files[1].id and len([f for f in client.files.list() if f.id == files[0].id]) == 1
    assert uploads[0].id == uploads[1].id and parts[0].id == parts[1].id
    assert completed.status == "completed" and client.files.content(completed.file.id).content == data
    with pytest.raises(openai.ConflictError, match="Idempotency-Key"):
        client.files.create(file=("once.jsonl", io.BytesIO(data + data)), purpose="batch", extra_headers=key)


def test_an_embeddings_batch_past_openais_50000_inputs_fails_naming_the_line_and_field(client: OpenAI) -> None:
    batch = _run(client, "/v1/embeddings", [{"model": "e", "input": ["x"] * 25_001} for _ in "ab"])

    assert batch.status == "failed"
    error = batch.errors.data[0]
    assert (error.line, error.param) == (2, "body.input")
    assert "more than 50,000 embedding inputs" in error.message


def test_output_expires_after_sets_when_the_output_and_error_files_expire(client: OpenAI) -> None:
    bodies = [{"model": "e", "input": "kept"}, {"model": "e", "input": "fails [fault:400]"}]
    kept = {"anchor": "created_at", "seconds": 7200}

    batch = _run(client, "/v1/embeddings", bodies, output_expires_after=kept)
    made = time.time()

    for file_id in (batch.output_file_id, batch.error_file_id):
        expires_at = client.files.retrieve(file_id).expires_at
        assert expires_at is not None and abs(expires_at - (made + 7200)) < 30
    with pytest.raises(openai.BadRequestError) as refused:
        _run(client, "/v1/embeddings", bodies, output_expires_after={"anchor": "created_at", "seconds": 60})
    assert refused.value.param == "output_expires_after.seconds"


@pytest.mark.parametrize(
    ("endpoint", "body", "answer"),
    [
        ("/v1/responses", {"model": "gpt-4.1-mini", "input": "hello there"}, "response"),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "once", "max_tokens": 5}, "text_completion"),
        ("/v1/moderations", {"model": "omni-moderation-latest", "input": "a kind word"}, None),
    ],
)
def test_console_batches_run_each_endpoint_inline_and_sum_its_usage(
    stack: RunningStack, client: OpenAI, endpoint: str, body: dict[str, Any], answer: str | None
) -> None:
    requests = [{"custom_id": f"c{n}", "body": body} for n in range(2)]
    created = stack.call("POST", CONSOLE, body={"endpoint": endpoint, "requests": requests})
    assert created.status == 201, created.body

    ended = stack.wait(created.json()["id"])
    results = stack.call("GET", f"{CONSOLE}/{ended['id']}/results").body.decode().splitlines()

    bodies = [json.loads(line)["response"]["body"] for line in results]
    assert (ended["status"], ended["endpoint"], ended["request_counts"]["completed"]) == ("completed", endpoint, 2)
    assert [body.get("object") for body in bodies] == [answer, answer]
    counted = [body.get("usage") or {} for body in bodies]
    assert ended["usage"]["input_tokens"] == sum(u.get("input_tokens", u.get("prompt_tokens", 0)) for u in counted)
    assert ended["usage"]["output_tokens"] == sum(
        u.get("output_tokens", u.get("completion_tokens", 0)) for u in counted
    )
    assert (ended["usage"]["input_tokens"] > 0) == (answer is not None)
    seen = client.batches.retrieve(ended["id"])
    assert (seen.endpoint, seen.model, seen.request_counts.completed) == (endpoint, body["model"], 2)


def test_a_retried_batch_names_its_source_to_the_openai_package(stack: RunningStack, client: OpenAI) -> None:
    lines = [chat_line("fine", "hello"), chat_line("refused", "no [fault:400]")]
    source = stack.call("POST", CONSOLE, body={"endpoint": CHAT, "requests": lines}).json()
    stack.wait(source["id"])

    retried = stack.call("POST", f"{CONSOLE}/{source['id']}/retry")
    seen = client.batches.retrieve(retried.json()["id"])

    assert retried.status == 201
    assert seen.metadata == {"retry_of": source["id"]} and seen.request_counts.total == 1
    assert seen.input_file_id is not None
    assert [json.loads(line)["custom_id"] for line in client.files.content(seen.input_file_id).text.splitlines()] == [
        "refused"
    ]


def test_a_batch_made_from_a_bucket_object_shows_its_input_as_a_file(stack: RunningStack, client: OpenAI) -> None:
    data = "".join(json.dumps({**chat_line(f"b{n}", f"line {n}"), "url": CHAT}) + "\n" for n in range(3)).encode()
    upload = {"fileName": "input.jsonl", "data": base64.b64encode(data).decode()}
    key = stack.call("POST", f"{BUCKETS}/inputs/objects", body=upload).json()["file"]["key"]
    created = stack.call(
        "POST", CONSOLE, body={"endpoint": CHAT, "input_file": {"bucket_key": "inputs", "object_key": key}}
    ).json()
    stack.wait(created["id"])

    seen = client.batches.retrieve(created["id"])

    assert (seen.status, seen.request_counts.completed) == ("completed", 3)
    assert seen.input_file_id is not None
    assert client.files.content(seen.input_file_id).read() == data


def test_a_v1_file_of_more_than_50000_requests_fails_with_openais_too_many_tasks(client: OpenAI) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    lines = ({"custom_id": f"r{n}", "method": "POST", "url": CHAT, "body": body} for n in range(50_001))
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    # Larger than one API request may carry: through the Uploads API, in 4 MiB parts.
    upload = client.uploads.create(
        bytes=len(data), filename="many.jsonl", mime_type="application/jsonl", purpose="batch"
    )
    pieces = [data[start : start + 4 * 1024 * 1024] for start in range(0, len(data), 4 * 1024 * 1024)]
    parts = [client.uploads.parts.create(upload.id, data=piece).id for piece in pieces]
    uploaded = client.uploads.complete(upload.id, part_ids=parts).file
    assert uploaded is not None
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")

    deadline = time.monotonic() + 120
    while batch.status not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = client.batches.retrieve(batch.id)

    assert batch.status == "failed" and batch.errors is not None and batch.errors.data is not None
    assert [(error.code, error.line) for error in batch.errors.data] == [("too_many_tasks", 50_001)]
    assert batch.errors.data[0].message == "the batch has more than 50,000 lines, the limit"
    assert batch.request_counts is not None and batch.request_counts.total == 0
