import io
import json
from pathlib import Path

import pytest

from batchapi.cli import main
from batchapi.errors import UsageError
from batchapi.input_lines import read_requests
from batchapi.progress import Progress


def test_progress_line_shows_done_failed_rate_and_eta() -> None:
    progress = Progress(total=200, stream=io.StringIO(), width=10)

    line = progress.render(done=50, failed=2, status="in_progress", elapsed=10.0)

    assert line == "[##........] 50/200  25%  failed 2  5.0 lines/s  ETA 30s  in_progress"


def test_progress_line_shows_the_current_pace_and_the_lines_waiting_for_capacity() -> None:
    progress = Progress(total=200, stream=io.StringIO(), width=10)

    line = progress.render(done=50, failed=0, status="in_progress", elapsed=100.0, pace=2.5, waiting=(120, 42.4))

    assert line == (
        "[##........] 50/200  25%  failed 0  2.5 lines/s  ETA 60s  in_progress  waiting for capacity 120 (42s)"
    )


def test_progress_prints_one_line_per_change_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(total=2, stream=stream, width=4)

    progress.update(1, 0, "in_progress")
    progress.update(1, 0, "in_progress")
    progress.update(2, 0, "completed")

    assert len(stream.getvalue().splitlines()) == 2
    assert stream.getvalue().splitlines()[-1].startswith("[####] 2/2 100%")


def test_openai_input_lines_become_console_requests(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    body = {"model": "m", "input": "x"}
    source.write_text(json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": body}) + "\n\n")

    endpoint, requests = read_requests(source, None)

    assert endpoint == "/v1/embeddings"
    assert requests == [{"custom_id": "a", "body": body}]


def test_an_input_file_opening_with_a_byte_order_mark_reads_like_the_service_reads_it(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    body = {"model": "m", "input": "x"}
    line = json.dumps({"custom_id": "a", "url": "/v1/embeddings", "body": body})
    source.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")

    assert read_requests(source, None) == ("/v1/embeddings", [{"custom_id": "a", "body": body}])


def test_a_bad_input_line_is_named(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"custom_id": "a", "url": "/v1/embeddings", "body": {}}\n{oops\n')

    with pytest.raises(UsageError, match=r"in.jsonl line 2: not valid JSON"):
        read_requests(source, None)


def test_missing_key_exits_2_with_a_hint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCH_API_KEY", raising=False)

    assert main(["--key", "", "status", "batch_x"]) == 2
    assert "no API key: pass --key or set BATCH_API_KEY" in capsys.readouterr().err
