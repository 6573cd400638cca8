import pytest
from pydantic import ValidationError

from batch_core.models.batch import CreateBatchRequest, RequestCounts, window_seconds
from batch_core.models.line import line_id


@pytest.mark.parametrize(
    ("window", "seconds"), [("30m", 1800), ("2h", 7200), ("24h", 86400), ("7d", 604800), ("90s", 90)]
)
def test_completion_windows_parse_to_seconds(window: str, seconds: int) -> None:
    assert window_seconds(window) == seconds


@pytest.mark.parametrize("window", ["", "24", "h", "1w", "-1h", "1.5h", "24 h"])
def test_malformed_completion_windows_are_rejected(window: str) -> None:
    with pytest.raises(ValueError, match="completion_window"):
        window_seconds(window)


def test_create_request_defaults_to_a_24h_window() -> None:
    request = CreateBatchRequest(endpoint="/v1/embeddings", requests=[])

    assert request.completion_window == "24h"


def test_create_request_rejects_a_window_over_7_days() -> None:
    with pytest.raises(ValidationError, match="at most 7d"):
        CreateBatchRequest(endpoint="/v1/embeddings", requests=[], completion_window="169h")


def test_done_counts_every_final_line_state() -> None:
    assert RequestCounts(total=10, completed=4, failed=3, cancelled=2, expired=1).done == 10


def test_line_ids_are_stable_and_distinct() -> None:
    assert line_id("batch_1", 0) == line_id("batch_1", 0)
    assert line_id("batch_1", 0) != line_id("batch_1", 1)
    assert line_id("batch_1", 0).startswith("batch_req_")
