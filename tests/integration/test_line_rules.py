"""What validation accepts, the executor runs; what it cannot run, validation rejects naming the line."""

import base64
import json
from typing import Any

import boto3
import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, queue_url
from tests.sqs_records import sqs_record

BUCKETS = "/api/client/v1/files/buckets"
CHAT = "/v1/chat/completions"
CONSOLE = "/api/client/v1/batches"
BODY = chat_line("", "x")["body"]


def _line(custom_id: str, **fields: Any) -> bytes:
    envelope = {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": BODY, **fields}
    return json.dumps({key: value for key, value in envelope.items() if value is not None}).encode()


def _with_body(custom_id: str, **body: Any) -> bytes:
    return _line(custom_id, body={**BODY, **body})


def _run_file(console: Console, data: bytes) -> dict[str, Any]:
    key = console.call(
        "POST", f"{BUCKETS}/in/objects", {"fileName": "in.jsonl", "data": base64.b64encode(data).decode()}
    ).json()["file"]["key"]
    created = console.create({"endpoint": CHAT, "input_file": {"bucket_key": "in", "object_key": key}})
    assert created.status == 201, created.body
    return console.wait(created.json()["id"])


def _assert_all_ran(console: Console, batch: dict[str, Any], custom_ids: list[str]) -> None:
    assert batch["status"] == "completed"
    assert batch["request_counts"]["completed"] == len(custom_ids)
    results = console.result_lines(batch["id"])
    assert [(line["custom_id"], line["response"]["status_code"]) for line in results] == [
        (custom_id, 200) for custom_id in custom_ids
    ]


def test_a_file_opening_with_a_bom_and_lines_without_method_or_url_run_every_line(console: Console) -> None:
    data = b"\xef\xbb\xbf" + b"\n".join(
        [_line("a", url=None), _line("b", method=None), _line("c", method=None, url=None), _line("d")]
    )

    batch = _run_file(console, data)

    _assert_all_ran(console, batch, ["a", "b", "c", "d"])


BAD_LINES = [
    (
        json.dumps({"custom_id": "b", **BODY}).encode(),
        "line 2: body is required: a line is {custom_id, method, url, body}",
        "body",
    ),
    (
        _with_body("b", user="x").replace(b'"user": "x"', b'"user": "\\ud800"'),
        "line 2: body.user holds a lone surrogate (\\ud800)",
        "body.user",
    ),
    (
        _with_body("b", user="deep").replace(b'"deep"', b"[" * 70 + b"]" * 70),
        "line 2: body.user nests deeper than 64 levels",
        "body.user",
    ),
    (
        _with_body("b", seed=1).replace(b'"seed": 1', b'"seed": ' + b"7" * 5000),
        "line 2: body.seed is a number too long to parse (over 4300 digits)",
        "body.seed",
    ),
    (_with_body("b", user="x").replace(b'"user": "x"', b'"user": "\xff"'), "line 2: is not UTF-8 text", None),
    (_with_body("b", user="u" * 1024 * 1024), "line 2: is longer than 1048576 bytes, the limit of one line", None),
    (_with_body("b", stream="true"), "line 2: body.stream must be a boolean", "body.stream"),
    (_with_body("b", foo=1), "line 2: body.foo is not a parameter of /v1/chat/completions", "body.foo"),
    (
        _line("b", priority="high"),
        "line 2: priority is not a field of a line (custom_id, method, url, body)",
        "priority",
    ),
]


@pytest.mark.parametrize(("bad", "message", "param"), BAD_LINES, ids=[message[8:40] for _, message, _ in BAD_LINES])
def test_a_file_line_the_executor_could_not_run_fails_the_batch_naming_line_and_field(
    console: Console, system: LocalSystem, bad: bytes, message: str, param: str | None
) -> None:
    batch = _run_file(console, b"\n".join([_line("a"), bad, _line("c")]) + b"\n")

    assert batch["status"] == "failed"
    assert batch["error_message"].startswith(message)
    # OpenAI's code for a line that does not read as JSON at all; a field this service refuses is invalid_input.
    code = "invalid_json_line" if "UTF-8" in message else "invalid_input"
    assert batch["errors"] == [{"code": code, "message": batch["error_message"], "line": 2, "param": param}]
    assert console.items(batch["id"]).json()["data"] == []
    _assert_nothing_queued(system)


def test_a_file_with_several_bad_lines_lists_them_all_with_the_total(console: Console) -> None:
    lines = [_line("a"), _with_body("b", stream="true"), _line("c"), b"{oops", _with_body("e", model=""), _line("f")]

    batch = _run_file(console, b"\n".join(lines))

    assert batch["status"] == "failed"
    assert batch["errors"] == [
        {
            "code": "invalid_input",
            "message": "line 2: body.stream must be a boolean",
            "line": 2,
            "param": "body.stream",
        },
        {
            "code": "invalid_json_line",
            "message": "line 4: is not valid JSON (Expecting property name enclosed in double quotes)",
            "line": 4,
            "param": None,
        },
        {
            "code": "invalid_input",
            "message": "line 5: body.model is required and must be a non-empty string",
            "line": 5,
            "param": "body.model",
        },
    ]
    assert batch["error_message"] == "; ".join(error["message"] for error in batch["errors"]) + " (3 lines are invalid)"


def _raw_create(system: LocalSystem, body: bytes) -> Any:
    return system.request("POST", CONSOLE, key="key-tenant-a", body=body, headers={"content-type": "application/json"})


def _entries(*bodies: str) -> bytes:
    return ('{"endpoint": "' + CHAT + '", "requests": [' + ", ".join(bodies) + "]}").encode()


GOOD = json.dumps(chat_line("a", "x"))
INLINE_REJECTIONS = [
    (
        _entries(
            GOOD, '{"custom_id": "b", "body": {"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}}'
        ),
        "line 2: body.messages.0.content holds a lone surrogate (\\ud800)",
        "body.messages.0.content",
    ),
    (
        _entries(
            GOOD, '{"model": "m", "messages": [{"role": "user", "content": "x"}], "user": ' + "[" * 70 + "]" * 70 + "}"
        ),
        "line 2: body.user nests deeper than 64 levels",
        "body.user",
    ),
    (
        _entries(GOOD, '{"model": "m", "seed": ' + "9" * 5000 + ', "messages": [{"role": "user", "content": "x"}]}'),
        "line 2: body.seed is a number too long to parse (over 4300 digits)",
        "body.seed",
    ),
    (
        _entries(GOOD, json.dumps({"custom_id": "b", "body": {**BODY, "stream": "true"}})),
        "line 2: body.stream must be a boolean",
        "body.stream",
    ),
    (
        _entries(GOOD, json.dumps({"custom_id": "b", "body": {**BODY, "foo": 1}})),
        "line 2: body.foo is not a parameter of /v1/chat/completions",
        "body.foo",
    ),
    (
        _entries(GOOD, json.dumps({"custom_id": "b", "body": {**BODY, "user": "u" * 1024 * 1024}})),
        "line 2: is longer than 1048576 bytes, the limit of one line",
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "message", "param"), INLINE_REJECTIONS, ids=[message[8:40] for _, message, _ in INLINE_REJECTIONS]
)
def test_an_inline_line_the_executor_could_not_run_is_400_naming_line_and_field(
    system: LocalSystem, body: bytes, message: str, param: str | None
) -> None:
    answer = _raw_create(system, body)

    assert (answer.status, answer.json()) == (
        400,
        {"error": message, "errors": [{"code": "invalid_input", "message": message, "line": 2, "param": param}]},
    )
    _assert_nothing_queued(system)


def test_a_create_body_that_is_not_utf8_is_400(system: LocalSystem) -> None:
    answer = _raw_create(system, _entries(GOOD).replace(b'"x"', b'"\xff"'))

    assert (answer.status, answer.json()) == (400, {"error": "the request body is not UTF-8 text (byte 145)"})
    _assert_nothing_queued(system)


def test_several_bad_inline_lines_are_all_listed(console: Console, system: LocalSystem) -> None:
    lines = [chat_line("a", "x"), {"custom_id": "b", "body": {**BODY, "n": "2"}}, "no", chat_line("d", "x", model="")]

    answer = console.create({"endpoint": CHAT, "requests": lines})

    assert answer.status == 400
    assert [(error["line"], error["param"]) for error in answer.json()["errors"]] == [
        (2, "body.n"),
        (3, None),
        (4, "body.model"),
    ]
    assert answer.json()["error"] == (
        "line 2: body.n must be an integer; line 3: must be a JSON object; "
        "line 4: body.model is required and must be a non-empty string (3 lines are invalid)"
    )
    _assert_nothing_queued(system)


def _input_key(system: LocalSystem, batch_id: str) -> str:
    batch = system.stores.batches.get(batch_id)
    assert batch is not None
    return batch.input_key


def _corrupt_line(system: LocalSystem, batch_id: str, custom_id: str, corrupted: bytes) -> None:
    """Overwrites one line of the batch's stored input with other bytes of the same length."""
    key = _input_key(system, batch_id)
    lines = system.stores.blobs.get(key).split(b"\n")
    victim = next(number for number, line in enumerate(lines) if f'"{custom_id}"'.encode() in line)
    lines[victim] = corrupted.ljust(len(lines[victim]))
    system.stores.blobs.put(key, b"\n".join(lines))


def test_a_line_that_stopped_reading_after_prepare_fails_alone(console: Console, system: LocalSystem) -> None:
    created = console.create({"endpoint": CHAT, "requests": [chat_line(c, "x") for c in ("a", "b", "c")]})
    batch_id = created.json()["id"]
    console.wait(batch_id, {"in_progress"}, deliver=False)
    _corrupt_line(system, batch_id, "b", b'{"custom_id": "b", "body": {"model": ""}}')

    batch = console.wait(batch_id)

    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 3, "completed": 2, "failed": 1, "cancelled": 0, "expired": 0}
    results = console.result_lines(batch_id)
    assert [(line["custom_id"], line["error"] and line["error"]["code"]) for line in results] == [
        ("a", None),
        ("b", "invalid_request"),
        ("c", None),
    ]
    assert results[1]["error"]["message"] == (
        "the line no longer reads: body.model is required and must be a non-empty string"
    )


def test_a_dead_lettered_unit_keeps_the_custom_ids_of_its_readable_lines(console: Console, system: LocalSystem) -> None:
    created = console.create({"endpoint": CHAT, "requests": [chat_line(c, "x") for c in ("a", "b", "c")]})
    batch_id = created.json()["id"]
    console.wait(batch_id, {"in_progress"}, deliver=False)
    _corrupt_line(system, batch_id, "b", b"{not json")
    unit = {"batch_id": batch_id, "unit": 0, "first": 0, "count": 3, "byte_start": 0}
    unit["byte_end"] = len(system.stores.blobs.get(_input_key(system, batch_id)))
    record = sqs_record(json.dumps(unit), receives=3)

    answer = system.lambdas.invoke(system.stack.ref("DeadLetterFunction"), {"Records": [record]})

    assert answer == {"batchItemFailures": []}
    batch = console.wait(batch_id, deliver=False)
    assert batch["request_counts"]["failed"] == 3
    results = console.result_lines(batch_id)
    assert [(line["custom_id"], line["error"]["code"]) for line in results] == [
        ("a", "work_unit_failed"),
        (None, "work_unit_failed"),
        ("c", "work_unit_failed"),
    ]


def _assert_nothing_queued(system: LocalSystem) -> None:
    queued = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(system, "WorkQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert queued == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
