import pytest

from batch_core.errors import InvalidInput
from batch_core.validation import LineValidator

CHAT = "/v1/chat/completions"


def chat(custom_id: str | None = "a", **body: object) -> dict:
    return {"custom_id": custom_id, "body": {"model": "m", "messages": [{"role": "user", "content": "x"}], **body}}


def test_valid_lines_become_request_lines_for_the_endpoint() -> None:
    validator = LineValidator(CHAT, max_lines=10)

    line = validator.check(chat("q1", temperature=0), 1)

    assert line.custom_id == "q1"
    assert line.url == CHAT and line.method == "POST"
    assert line.body["temperature"] == 0
    assert validator.finish() == 1


def test_a_bare_body_keeps_its_custom_id_out_of_the_upstream_request() -> None:
    line = LineValidator(CHAT, 10).check({"custom_id": "c", "model": "m", "messages": [{"role": "user"}]}, 1)

    assert line.custom_id == "c"
    assert "custom_id" not in line.body


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"custom_id": "a", "method": "GET", "url": CHAT, "body": {}}, "method"),
        ({"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}, "url"),
        (chat(custom_id=""), "custom_id"),
        (chat(custom_id=7), "custom_id"),
        ({"custom_id": "a", "body": []}, "body"),
        (chat(model=""), "body.model"),
        (chat(messages=[]), "body.messages"),
        (chat(messages=["hi"]), "body.messages"),
        (chat(stream=True), "body.stream"),
    ],
)
def test_each_rejection_names_the_line_and_the_field(entry: dict, field: str) -> None:
    validator = LineValidator(CHAT, 10)
    validator.check(chat("first"), 1)

    with pytest.raises(InvalidInput) as rejected:
        validator.check(entry, 2)

    assert rejected.value.line == 2
    assert rejected.value.param == field
    assert rejected.value.message.startswith(f"line 2: {field} ")


def test_embeddings_need_input() -> None:
    with pytest.raises(InvalidInput, match=r"line 1: body.input is required"):
        LineValidator("/v1/embeddings", 10).check({"body": {"model": "m", "input": []}}, 1)


def test_duplicate_custom_id_names_both_lines_and_missing_ids_never_clash() -> None:
    validator = LineValidator(CHAT, 10)
    validator.check(chat(None), 1)
    validator.check(chat(None), 2)
    validator.check(chat("x"), 3)

    with pytest.raises(InvalidInput, match=r"^line 4: custom_id 'x' duplicates line 3$"):
        validator.check(chat("x"), 4)


def test_one_line_over_the_limit_is_rejected() -> None:
    validator = LineValidator(CHAT, max_lines=2)
    validator.check(chat("a"), 1)
    validator.check(chat("b"), 2)

    with pytest.raises(InvalidInput, match="more than 2 lines"):
        validator.check(chat("c"), 3)


def test_an_empty_batch_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="no lines"):
        LineValidator(CHAT, 2).finish()
