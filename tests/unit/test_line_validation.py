import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from batch_core.errors import InvalidInput, InvalidLines
from batch_core.validation import LineValidator, read_line, read_request_body

CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"
MESSAGES = [{"role": "user", "content": "x"}]


@pytest.fixture
def validator_of() -> Iterator[Callable[..., LineValidator]]:
    """Makes validators, each closed (its custom ids' file removed) when the test ends."""
    with ExitStack() as validators:
        yield lambda *arguments, **options: validators.enter_context(LineValidator(*arguments, **options))


def chat(custom_id: str | None = "a", **body: object) -> dict:
    return {"custom_id": custom_id, "body": {"model": "m", "messages": MESSAGES, **body}}


def rejection_of(validator: LineValidator) -> InvalidInput:
    with pytest.raises(InvalidLines) as rejected:
        validator.finish()
    assert rejected.value.total == 1
    return rejected.value.problems[0]


def test_valid_entries_become_the_lines_the_batch_stores(validator_of: Callable[..., LineValidator]) -> None:
    validator = validator_of(CHAT, max_lines=10)

    stored = validator.check(chat("q1", temperature=0), 1)

    assert json.loads(stored or b"") == {
        "method": "POST",
        "url": CHAT,
        "custom_id": "q1",
        "body": {"model": "m", "messages": MESSAGES, "temperature": 0},
    }
    assert validator.finish() == 1


def test_a_bare_body_keeps_its_custom_id_out_of_the_upstream_request(
    validator_of: Callable[..., LineValidator],
) -> None:
    stored = validator_of(CHAT, 10).check({"custom_id": "c", "model": "m", "messages": [{"role": "user"}]}, 1)

    line = json.loads(stored or b"")
    assert line["custom_id"] == "c"
    assert line["body"] == {"model": "m", "messages": [{"role": "user"}]}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"custom_id": "a", "method": "GET", "url": CHAT, "body": {}}, "method"),
        ({"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}, "url"),
        ({**chat(), "priority": 1}, "priority"),
        (chat(custom_id=""), "custom_id"),
        (chat(custom_id=7), "custom_id"),
        ({"custom_id": "a", "body": []}, "body"),
        (chat(model=""), "body.model"),
        (chat(model=5), "body.model"),
        (chat(messages=[]), "body.messages"),
        (chat(messages=["hi"]), "body.messages"),
        (chat(messages=[{"content": "no role"}]), "body.messages.0.role"),
        (chat(stream=True), "body.stream"),
        (chat(stream="true"), "body.stream"),
        (chat(temperature="0.5"), "body.temperature"),
        (chat(max_tokens=1.5), "body.max_tokens"),
        (chat(n=True), "body.n"),
        (chat(stop=5), "body.stop"),
        (chat(foo=1), "body.foo"),
    ],
)
def test_each_rejection_names_the_line_and_the_field(
    entry: dict, field: str, validator_of: Callable[..., LineValidator]
) -> None:
    validator = validator_of(CHAT, 10)
    validator.check(chat("first"), 1)

    assert validator.check(entry, 2) is None

    rejected = rejection_of(validator)
    assert rejected.line == 2
    assert rejected.param == field
    assert rejected.message.startswith(f"line 2: {field} ")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (chat(stream="true"), "line 1: body.stream must be a boolean"),
        (chat(stream=True), "line 1: body.stream must not be true: batch lines cannot stream"),
        (chat(foo=1), "line 1: body.foo is not a parameter of /v1/chat/completions"),
        (chat(stop=5), "line 1: body.stop must be a string or an array"),
        (chat(temperature="0.5"), "line 1: body.temperature must be a number"),
        (chat(messages=[{"content": "x"}]), "line 1: body.messages.0.role is required"),
        ({**chat(), "priority": 1}, "line 1: priority is not a field of a line (custom_id, method, url, body)"),
    ],
)
def test_type_and_unknown_key_rejections_say_what_is_wrong(
    entry: dict, message: str, validator_of: Callable[..., LineValidator]
) -> None:
    validator = validator_of(CHAT, 10)
    validator.check(entry, 1)

    assert rejection_of(validator).message == message


def test_false_stream_and_known_parameters_pass_and_the_body_goes_unchanged() -> None:
    body = {"model": "m", "messages": MESSAGES, "stream": False, "temperature": 1, "max_tokens": 5, "stop": ["\n"]}

    line = read_line(json.dumps({"custom_id": "a", "body": body}).encode(), 1, CHAT)

    assert line.body == body


def test_embeddings_need_input_and_refuse_chat_parameters(validator_of: Callable[..., LineValidator]) -> None:
    validator = validator_of(EMBED, 10)
    validator.check({"body": {"model": "m", "input": []}}, 1)
    validator.check({"body": {"model": "m", "input": "x", "messages": MESSAGES}}, 2)

    with pytest.raises(InvalidLines) as rejected:
        validator.finish()

    assert [error.message for error in rejected.value.problems] == [
        "line 1: body.input is required and must be a non-empty string or array",
        "line 2: body.messages is not a parameter of /v1/embeddings",
    ]


def test_duplicate_custom_id_names_both_lines_and_missing_ids_never_clash(
    validator_of: Callable[..., LineValidator],
) -> None:
    validator = validator_of(CHAT, 10)
    validator.check(chat(None), 1)
    validator.check(chat(None), 2)
    validator.check(chat("x"), 3)

    validator.check(chat("x"), 4)

    assert rejection_of(validator).message == "line 4: custom_id 'x' duplicates line 3"


def test_every_bad_line_is_counted_and_the_first_hundred_listed(validator_of: Callable[..., LineValidator]) -> None:
    validator = validator_of(CHAT, max_lines=1000)
    for number in range(1, 151):
        validator.check(chat(f"n{number}", model="") if number % 2 else chat(f"n{number}"), number)

    with pytest.raises(InvalidLines) as rejected:
        validator.finish()

    assert rejected.value.total == 75
    assert [error.line for error in rejected.value.problems] == list(range(1, 151, 2))
    assert rejected.value.message == (
        "line 1: body.model is required and must be a non-empty string; "
        "line 3: body.model is required and must be a non-empty string; "
        "line 5: body.model is required and must be a non-empty string; … (75 lines are invalid)"
    )


def test_over_a_hundred_bad_lines_list_the_first_hundred_and_count_them_all(
    validator_of: Callable[..., LineValidator],
) -> None:
    validator = validator_of(CHAT, max_lines=1000)
    for number in range(1, 131):
        validator.check("not an object", number)

    with pytest.raises(InvalidLines) as rejected:
        validator.finish()

    assert rejected.value.total == 130
    assert len(rejected.value.problems) == 100
    assert rejected.value.message.endswith("(130 lines are invalid; the first 100 are listed)")


def test_duplicates_found_a_write_later_are_listed_among_the_first_hundred_by_line(
    validator_of: Callable[..., LineValidator],
) -> None:
    validator = validator_of(CHAT, max_lines=5000)
    for number in range(1, 2501):
        custom_id = "first" if number in (2, 1500) else f"n{number}"
        validator.check("not an object" if number > 1900 else chat(custom_id), number)

    with pytest.raises(InvalidLines) as rejected:
        validator.finish()

    assert rejected.value.total == 601
    assert [error.line for error in rejected.value.problems] == [1500, *range(1901, 2000)]
    assert rejected.value.problems[0].message == "line 1500: custom_id 'first' duplicates line 2"


def test_one_line_over_the_limit_is_rejected(validator_of: Callable[..., LineValidator]) -> None:
    validator = validator_of(CHAT, max_lines=2)
    validator.check(chat("a"), 1)
    validator.check(chat("b"), 2)

    with pytest.raises(InvalidInput, match="more than 2 lines"):
        validator.check(chat("c"), 3)


def test_an_empty_batch_is_rejected(validator_of: Callable[..., LineValidator]) -> None:
    with pytest.raises(InvalidInput, match="no lines"):
        validator_of(CHAT, 2).finish()


def file_line(**envelope: object) -> bytes:
    return json.dumps({"custom_id": "a", "method": "POST", "url": CHAT, **envelope}).encode()


BODY = {"model": "m", "messages": MESSAGES}


@pytest.mark.parametrize(
    ("raw", "message", "param"),
    [
        (
            b'{"custom_id": "a", "model": "m", "messages": []}',
            "line 3: body is required: a line is {custom_id, method, url, body}",
            "body",
        ),
        (b'{"custom_id": "\xff"}', "line 3: is not UTF-8 text (byte 16)", None),
        (
            b'{"custom_id": "a", "body": {"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}}',
            "line 3: body.messages.0.content holds a lone surrogate (\\ud800)",
            "body.messages.0.content",
        ),
        (
            file_line(body={**BODY, "seed": 1}).replace(b'"seed": 1', b'"seed": ' + b"9" * 4301),
            "line 3: body.seed is a number too long to parse (over 4300 digits)",
            "body.seed",
        ),
        (
            file_line(body=BODY).replace(b'"model"', b'"temperature": 1e400, "model"'),
            "line 3: body.temperature is a number too large to represent",
            "body.temperature",
        ),
        (
            file_line(body=BODY).replace(b'"model"', b'"temperature": NaN, "model"'),
            "line 3: body.temperature is NaN, which JSON does not allow",
            "body.temperature",
        ),
        (
            file_line(body={**BODY, "metadata": {"k": "v"}}).replace(b'"v"', b"[" * 70 + b"]" * 70),
            "line 3: body.metadata.k nests deeper than 64 levels",
            "body.metadata.k",
        ),
        (file_line(body=BODY)[:-1], "line 3: is not valid JSON (Expecting ',' delimiter)", None),
        (b"[" * 5000 + b"]" * 5000, "line 3: nests too deeply to parse", None),
        (
            file_line(body={**BODY, "user": "u" * 1024 * 1024}),
            "line 3: is longer than 1048576 bytes, the limit of one line",
            None,
        ),
    ],
)
def test_a_file_line_the_system_cannot_carry_is_rejected_naming_line_and_field(
    raw: bytes, message: str, param: str | None
) -> None:
    with pytest.raises(InvalidInput) as rejected:
        read_line(raw, 3, CHAT)

    assert (rejected.value.message, rejected.value.line, rejected.value.param) == (message, 3, param)


def test_a_file_line_without_method_or_url_reads_as_the_batch_endpoint() -> None:
    line = read_line(json.dumps({"custom_id": "a", "body": BODY}).encode(), 1, CHAT)

    assert (line.custom_id, line.method, line.url, line.body) == ("a", "POST", CHAT, BODY)


def test_escaped_pairs_and_escaped_backslashes_are_not_lone_surrogates() -> None:
    text = "\\ud83d\\ude00 and \\\\ud800"
    raw = file_line(body=BODY).replace(b'"content": "x"', f'"content": "{text}"'.encode())

    line = read_line(raw, 1, CHAT)

    assert line.body["messages"][0]["content"] == "\U0001f600 and \\ud800"


def test_a_request_body_fault_inside_requests_names_its_line() -> None:
    body = '{"endpoint": "e", "requests": [{"model": "m"}, {"model": "m", "messages": [{"content": "\\udc00"}]}]}'

    with pytest.raises(InvalidLines) as rejected:
        read_request_body(body)

    assert rejected.value.message == "line 2: body.messages.0.content holds a lone surrogate (\\udc00)"
    assert (rejected.value.line, rejected.value.param) == (2, "body.messages.0.content")


def test_a_request_body_fault_elsewhere_names_the_field() -> None:
    with pytest.raises(InvalidInput) as rejected:
        read_request_body('{"metadata": {"k": ' + "1" * 5000 + "}}")

    assert rejected.value.message == "metadata.k is a number too long to parse (over 4300 digits)"
    assert not isinstance(rejected.value, InvalidLines)
