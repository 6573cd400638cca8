import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import CONSOLE, KEY_A, KEY_B, RunningStack, chat_line
from tests.waiting import wait_for


@pytest.fixture
def client(stack: RunningStack) -> OpenAI:
    return OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)


def _input_file(tmp_path: Path, lines: list[dict]) -> Path:
    path = tmp_path / "batch_input.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _openai_line(custom_id: str, text: str) -> dict:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        **{"body": chat_line("", text)["body"]},
    }


def _wait(client: OpenAI, batch_id: str, timeout: float = 120):
    def ended() -> openai.types.Batch | None:
        batch = client.batches.retrieve(batch_id)
        return batch if batch.status in ("completed", "failed", "expired", "cancelled") else None

    return wait_for(ended, timeout)


def test_openai_sdk_runs_a_batch_from_an_uploaded_file(client: OpenAI, stack: RunningStack, tmp_path: Path) -> None:
    lines = [_openai_line(f"o{n}", f"sdk {n}" + (" [fault:400]" if n == 2 else "")) for n in range(5)]
    with _input_file(tmp_path, lines).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")

    created = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"run": "sdk"}
    )
    batch = _wait(client, created.id)

    assert uploaded.status == "uploaded" and uploaded.purpose == "batch" and uploaded.filename == "batch_input.jsonl"
    assert created.status == "validating" and created.input_file_id == uploaded.id
    assert batch.status == "completed"
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (5, 4, 1)
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at and batch.metadata == {"run": "sdk"}
    output = [json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()]
    errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert [line["custom_id"] for line in output] == ["o0", "o1", "o3", "o4"]
    assert [line["custom_id"] for line in errors] == ["o2"]
    assert errors[0]["response"]["status_code"] == 400
    assert client.files.retrieve(batch.output_file_id).purpose == "batch_output"
    console_view = stack.call("GET", f"{CONSOLE}/{batch.id}").json()
    assert console_view["request_counts"]["completed"] == 4


def test_a_batch_where_every_line_failed_has_no_output_file(client: OpenAI, tmp_path: Path) -> None:
    with _input_file(tmp_path, [_openai_line("bad", "no [fault:400]")]).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")

    batch = _wait(
        client,
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id,
    )

    assert batch.output_file_id is None
    assert batch.error_file_id is not None


def test_a_bad_input_line_fails_the_batch_naming_the_line(client: OpenAI, tmp_path: Path) -> None:
    lines = [
        _openai_line("a", "fine"),
        {"custom_id": "b", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": "x"}},
    ]
    with _input_file(tmp_path, lines).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")

    batch = _wait(
        client,
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id,
    )

    assert batch.status == "failed"
    assert batch.errors is not None and batch.errors.data is not None
    [error] = batch.errors.data
    assert (error.line, error.param) == (2, "url")
    assert error.message == "line 2: url must be the batch's endpoint /v1/chat/completions"


def test_list_pages_through_every_batch_with_the_auto_pager(client: OpenAI, tmp_path: Path) -> None:
    with _input_file(tmp_path, [_openai_line("p", "page")]).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")
    created = [
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id
        for _ in range(5)
    ]

    first_page = client.batches.list(limit=2)
    listed = [batch.id for batch in client.batches.list(limit=2)]

    assert first_page.has_more is True and len(first_page.data) == 2
    assert listed[:5] == list(reversed(created))
    assert len(listed) == len(set(listed))


def test_cancel_through_the_sdk_is_idempotent(client: OpenAI, tmp_path: Path) -> None:
    lines = [_openai_line(f"s{n}", f"slow sdk {n} [slow:1]") for n in range(100)]
    with _input_file(tmp_path, lines).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")
    batch_id = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    ).id

    first = client.batches.cancel(batch_id)
    again = client.batches.cancel(batch_id)
    ended = _wait(client, batch_id)
    after_end = client.batches.cancel(batch_id)

    assert first.status in ("cancelling", "cancelled") and again.status in ("cancelling", "cancelled")
    assert ended.status == "cancelled" and ended.cancelled_at is not None
    assert after_end.status == "cancelled"


def test_errors_use_the_openai_envelope(client: OpenAI, stack: RunningStack) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.batches.retrieve("batch_nope")
    with pytest.raises(openai.BadRequestError) as bad:
        client.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.BadRequestError) as too_much:
        client.batches.create(
            input_file_id="file-nope",
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata={f"k{n}": "v" for n in range(17)},
        )

    assert missing.value.body == {
        "message": "Batch 'batch_nope' not found",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert bad.value.body["param"] == "input_file_id"
    assert too_much.value.body["param"] == "metadata"


def test_files_are_per_tenant_and_can_be_deleted(client: OpenAI, stack: RunningStack, tmp_path: Path) -> None:
    with _input_file(tmp_path, [_openai_line("x", "mine")]).open("rb") as source:
        uploaded = client.files.create(file=source, purpose="batch")
    other = OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_B, max_retries=0)

    with pytest.raises(openai.NotFoundError):
        other.files.retrieve(uploaded.id)
    assert uploaded.id in {stored.id for stored in client.files.list()}
    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_a_file_larger_than_one_request_goes_up_in_parts_and_runs(client: OpenAI, tmp_path: Path) -> None:
    padding = "p" * 4400
    lines = [_openai_line(f"u{n}", f"upload {n} {padding}") for n in range(2500)]
    path = _input_file(tmp_path, lines)
    assert path.stat().st_size > 10 * 1024 * 1024

    upload = client.uploads.upload_file_chunked(
        file=path, mime_type="application/jsonl", purpose="batch", part_size=4 * 1024 * 1024
    )

    assert upload.status == "completed" and upload.file is not None
    assert upload.file.bytes == path.stat().st_size
    assert client.files.content(upload.file.id).content == path.read_bytes()
    batch = _wait(
        client,
        client.batches.create(
            input_file_id=upload.file.id, endpoint="/v1/chat/completions", completion_window="24h"
        ).id,
        timeout=300,
    )
    assert batch.status == "completed" and batch.request_counts.completed == 2500


def _two_part_upload(client: OpenAI, data: bytes, name: str) -> tuple[str, list[str]]:
    upload = client.uploads.create(bytes=len(data), filename=name, mime_type="application/jsonl", purpose="batch")
    half = len(data) // 2
    parts = [client.uploads.parts.create(upload.id, data=piece).id for piece in (data[:half], data[half:])]
    return upload.id, parts


def test_an_upload_with_a_wrong_md5_is_rejected_and_stores_no_file(client: OpenAI) -> None:
    data = "".join(json.dumps(_openai_line(f"m{n}", "checked")) + "\n" for n in range(4)).encode()
    upload_id, parts = _two_part_upload(client, data, "md5-checked.jsonl")

    with pytest.raises(openai.BadRequestError) as wrong:
        client.uploads.complete(upload_id, part_ids=parts, md5="0" * 32)
    listed_after_wrong = [stored.filename for stored in client.files.list()]
    completed = client.uploads.complete(
        upload_id, part_ids=parts, md5=hashlib.md5(data, usedforsecurity=False).hexdigest()
    )

    assert wrong.value.body["param"] == "md5"
    assert "md5-checked.jsonl" not in listed_after_wrong
    assert completed.status == "completed" and completed.file is not None
    assert completed.file.expires_at == completed.file.created_at + 30 * 86400
    assert client.files.content(completed.file.id).content == data


def test_concurrent_completes_of_one_upload_make_one_file(client: OpenAI) -> None:
    data = "".join(json.dumps(_openai_line(f"c{n}", "raced")) + "\n" for n in range(4)).encode()
    upload_id, parts = _two_part_upload(client, data, "raced.jsonl")

    def complete(_: int) -> str:
        try:
            return client.uploads.complete(upload_id, part_ids=parts).status
        except openai.BadRequestError:
            return "refused"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(complete, range(4)))

    assert outcomes == ["completed", "refused", "refused", "refused"]
    assert [stored.filename for stored in client.files.list()].count("raced.jsonl") == 1
