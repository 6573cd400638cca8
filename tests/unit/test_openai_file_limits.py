"""OpenAI's limits on a batch's input file, kept on /v1: its size at create, and its requests and embedding
inputs when prepare reads it; a console batch keeps the deployment's own limit."""

import pytest

from batch_core.batches import create_batch_from_file
from batch_core.errors import InvalidInput
from batch_core.models.batch import OpenAICreateBatch
from batch_core.models.bounds import OPENAI_MAX_INPUT_BYTES
from batch_core.prepare import prepare_batch
from batch_core.settings import Settings
from batch_core.validation import LineValidator, embedding_inputs
from tests.unit.given import SETTINGS, TENANT, created, created_from_file, current, new_stores, uploaded

EMBEDDINGS = "/v1/embeddings"


def _embedding_line(custom_id: str, inputs: list[str]) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": {"model": "e", "input": inputs}}


def test_a_v1_batch_of_a_file_over_200_mb_is_refused_naming_the_file() -> None:
    stores = new_stores()
    stored = uploaded(stores, [_embedding_line("a", ["x"])])
    stores.files.records[stored.id] = stored.model_copy(update={"bytes": OPENAI_MAX_INPUT_BYTES + 1})

    with pytest.raises(InvalidInput) as refused:
        create_batch_from_file(
            stores, SETTINGS, TENANT, OpenAICreateBatch(input_file_id=stored.id, endpoint=EMBEDDINGS)
        )

    assert refused.value.param == "input_file_id"
    assert refused.value.message.startswith(f"File is too large: '{stored.id}' is 209,715,201 bytes")
    assert stores.batches.records == {}


def test_an_embeddings_batch_past_50000_inputs_across_its_lines_fails_naming_the_line_that_passed_it() -> None:
    stores = new_stores()
    lines = [
        _embedding_line("a", ["x"] * 30_000),
        _embedding_line("b", ["y"] * 19_999),
        _embedding_line("c", ["z", "z"]),
    ]
    stored = uploaded(stores, lines)
    batch = create_batch_from_file(
        stores, SETTINGS, TENANT, OpenAICreateBatch(input_file_id=stored.id, endpoint=EMBEDDINGS)
    )

    with pytest.raises(InvalidInput) as refused:
        prepare_batch(stores, SETTINGS, batch.id)

    assert (refused.value.line, refused.value.param) == (3, "body.input")
    assert "more than 50,000 embedding inputs across its lines" in refused.value.message
    assert stores.queue.sent == []


def test_a_v1_batch_keeps_openais_50000_requests_where_the_deployment_allows_more() -> None:
    stores = new_stores()
    roomy = Settings(max_lines_per_batch=1_000_000)
    from_file = created_from_file(stores, uploaded(stores, [_embedding_line("a", ["x"])]))
    inline = created(stores, ["a"])

    with (
        LineValidator.of(current(stores, from_file), roomy) as openai_validator,
        LineValidator.of(current(stores, inline), roomy) as console_validator,
    ):
        assert (openai_validator.max_lines, openai_validator.max_embedding_inputs) == (50_000, 50_000)
        assert (console_validator.max_lines, console_validator.max_embedding_inputs) == (1_000_000, None)


@pytest.mark.parametrize(
    ("given", "count"), [("one text", 1), (["a", "b", "c"], 3), ([1, 2, 3], 1), ([[1, 2], [3]], 2)]
)
def test_each_string_or_token_array_of_an_embeddings_input_counts_once(given: object, count: int) -> None:
    assert embedding_inputs({"model": "e", "input": given}) == count
