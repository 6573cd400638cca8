"""Bodies the system cannot carry are a 400 naming line and field over real HTTP, never a 5xx."""

import json
from pathlib import Path

from openai import OpenAI

from tests.e2e.conftest import CONSOLE, KEY_A, RunningStack, chat_line

CHAT = "/v1/chat/completions"
GOOD = json.dumps(chat_line("a", "fine"))


def _create(stack: RunningStack, *entries: str) -> tuple[int, dict]:
    raw = ('{"endpoint": "' + CHAT + '", "requests": [' + ", ".join(entries) + "]}").encode()
    answer = stack.call("POST", CONSOLE, raw=raw)
    return answer.status, answer.json()


def _line_error(message: str, param: str | None) -> dict:
    return {"error": message, "errors": [{"code": "invalid_input", "message": message, "line": 2, "param": param}]}


def test_a_body_that_is_not_utf8_is_400(stack: RunningStack) -> None:
    answer = stack.call("POST", CONSOLE, raw=b'{"endpoint": "' + CHAT.encode() + b'", "requests": ["\xff"]}')

    assert (answer.status, answer.json()) == (400, {"error": "the request body is not UTF-8 text (byte 52)"})


def test_nesting_past_the_limit_is_400_naming_the_line(stack: RunningStack) -> None:
    deep = '{"model": "m", "messages": [{"role": "user", "content": "x"}], "user": ' + "[" * 300 + "]" * 300 + "}"

    assert _create(stack, GOOD, deep) == (
        400,
        _line_error("line 2: body.user nests deeper than 64 levels", "body.user"),
    )


def test_a_number_too_long_to_parse_is_400_naming_the_line_and_field(stack: RunningStack) -> None:
    huge = '{"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": ' + "9" * 5000 + "}"

    assert _create(stack, GOOD, huge) == (
        400,
        _line_error("line 2: body.seed is a number too long to parse (over 4300 digits)", "body.seed"),
    )


def test_stream_as_a_string_is_400_naming_the_field(stack: RunningStack) -> None:
    streamed = json.dumps({"custom_id": "b", "body": {**chat_line("", "x")["body"], "stream": "true"}})

    assert _create(stack, GOOD, streamed) == (400, _line_error("line 2: body.stream must be a boolean", "body.stream"))


def test_an_unknown_body_key_in_an_uploaded_file_fails_the_batch_listing_it_in_errors_data(
    stack: RunningStack, tmp_path: Path
) -> None:
    client = OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)
    body = chat_line("", "x")["body"]
    lines = [{"custom_id": "a", "body": body}, {"custom_id": "b", "body": {**body, "stream": "true", "foo": 1}}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with path.open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")

    created = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    batch = stack.wait(created.id)

    assert batch["status"] == "failed"
    listed = client.batches.retrieve(created.id).errors
    assert listed is not None and listed.data is not None
    assert [(error.line, error.param, error.message) for error in listed.data] == [
        (2, "body.stream", "line 2: body.stream must be a boolean")
    ]
