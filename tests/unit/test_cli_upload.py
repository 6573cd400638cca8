"""`batchapi submit` sends a file inline while its create request fits in one API request, else through the
Uploads API in parts."""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from batchapi.client import BatchClient, part_form
from batchapi.create import create_batch
from batchapi.upload import EVENT_ROOM_BYTES, INLINE_MAX_BYTES, LAMBDA_MAX_EVENT_BYTES, PART_BYTES, parts

CHAT = "/v1/chat/completions"
OPTIONS = {"completion_window": "24h", "metadata": None}


class FakeService(BatchClient):
    """The calls `create_batch` makes, recorded; an upload's parts joined as the service joins them."""

    def __init__(self) -> None:
        super().__init__("http://service.invalid", "key")
        self.calls: list[tuple[Any, ...]] = []
        self.parts: dict[str, bytes] = {}
        self.uploaded = b""

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", body))
        return {"id": "batch_inline"}

    def create_upload(self, filename: str, size: int) -> dict[str, Any]:
        self.calls.append(("create_upload", filename, size))
        return {"id": "upload_1"}

    def add_upload_part(self, upload_id: str, data: bytes) -> str:
        part_id = f"part_{len(self.parts)}"
        self.parts[part_id] = data
        self.calls.append(("add_upload_part", upload_id, len(data)))
        return part_id

    def complete_upload(self, upload_id: str, part_ids: list[str], md5: str) -> dict[str, Any]:
        self.uploaded = b"".join(self.parts[part_id] for part_id in part_ids)
        self.calls.append(("complete_upload", upload_id, part_ids, md5))
        return {"id": upload_id, "file": {"id": "file-1"}}

    def create_from_file(self, file_id: str, endpoint: str, **options: Any) -> dict[str, Any]:
        self.calls.append(("create_from_file", file_id, endpoint, options))
        return {"id": "batch_uploaded", "object": "batch"}

    def get(self, batch_id: str) -> dict[str, Any]:
        return {"id": batch_id, "request_counts": {"total": 0}}


def _line(custom_id: str, text: str) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}).encode() + b"\n"


def test_a_file_whose_create_fits_in_one_request_is_sent_inline(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(_line("a", "hi") + _line("b", "hello"))
    service = FakeService()

    batch = create_batch(service, source, None, OPTIONS)

    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert batch == {"id": "batch_inline"}
    assert [call[0] for call in service.calls] == ["create"]
    assert service.calls[0][1]["requests"][0] == {"custom_id": "a", "body": body}


def test_a_file_larger_than_one_request_is_uploaded_in_parts_and_the_batch_made_from_its_file(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    content = b"".join(_line(f"q{number}", "x" * 800_000) for number in range(8))
    source.write_bytes(content)
    service = FakeService()

    batch = create_batch(service, source, None, {"completion_window": "24h", "metadata": {"team": "a"}})

    assert len(content) > INLINE_MAX_BYTES
    assert service.calls == [
        ("create_upload", "big.jsonl", len(content)),
        ("add_upload_part", "upload_1", PART_BYTES),
        ("add_upload_part", "upload_1", len(content) - PART_BYTES),
        ("complete_upload", "upload_1", ["part_0", "part_1"], hashlib.md5(content, usedforsecurity=False).hexdigest()),
        ("create_from_file", "file-1", CHAT, {"completion_window": "24h", "metadata": {"team": "a"}}),
    ]
    assert service.uploaded == content
    assert batch == {"id": "batch_uploaded", "request_counts": {"total": 0}}


def test_a_small_file_whose_escaped_create_is_too_large_for_one_request_is_uploaded(tmp_path: Path) -> None:
    source = tmp_path / "accents.jsonl"
    # "é" is 2 bytes in the file, `\u00e9` in the request body and `\\u00e9` in the Lambda event: 7 bytes.
    source.write_bytes(_line("a", "é" * 500_000) + _line("b", "é" * 500_000))
    service = FakeService()

    batch = create_batch(service, source, None, OPTIONS)

    assert source.stat().st_size < INLINE_MAX_BYTES
    assert batch["id"] == "batch_uploaded"
    assert service.calls[0] == ("create_upload", "accents.jsonl", source.stat().st_size)
    assert service.uploaded == source.read_bytes()


def test_lines_without_method_or_url_are_uploaded_as_openai_batch_input_lines(tmp_path: Path) -> None:
    source = tmp_path / "bodies.jsonl"
    body = {"model": "text-embedding-3-small", "input": "x"}
    written = json.dumps({"custom_id": "c", "method": "POST", "url": "/v1/embeddings", "body": body}).encode()
    source.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"custom_id": "a", **body}).encode()
        + b"\r\n\n"
        + json.dumps({"custom_id": "b", "body": body}).encode()
        + b"\n"
        + written
        + b"\n"
        + json.dumps(body).encode()
    )
    service = FakeService()

    create_batch(service, source, "/v1/embeddings", OPTIONS, upload=True)

    rewritten = [json.loads(line) for line in service.uploaded.splitlines()]
    assert rewritten == [
        {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": body},
        {"custom_id": "b", "method": "POST", "url": "/v1/embeddings", "body": body},
        {"custom_id": "c", "method": "POST", "url": "/v1/embeddings", "body": body},
        {"custom_id": "line-5", "method": "POST", "url": "/v1/embeddings", "body": body},
    ]
    assert service.uploaded.splitlines()[2] == written
    assert service.calls[-1] == ("create_from_file", "file-1", "/v1/embeddings", OPTIONS)


def test_an_uploaded_files_endpoint_is_the_first_url_its_lines_name(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    body = {"model": "text-embedding-3-small", "input": "x"}
    source.write_bytes(json.dumps(body).encode() + b"\n" + _line("b", "hi"))
    service = FakeService()

    create_batch(service, source, None, OPTIONS, upload=True)

    assert [json.loads(line)["url"] for line in service.uploaded.splitlines()] == [CHAT, CHAT]
    assert service.calls[-1][2] == CHAT


def test_parts_are_cut_at_exactly_their_size_whatever_the_lines() -> None:
    lines = [b"aaa\n", b"bbbbbbbbbbbbb\n", b"c\n"]

    cut = list(parts(lines, size=5))

    assert cut == [b"aaa\nb", b"bbbbb", b"bbbbb", b"bb\nc\n"]


def test_a_stream_of_whole_parts_leaves_no_empty_part() -> None:
    assert list(parts([b"abcd", b"efgh"], size=4)) == [b"abcd", b"efgh"]


def test_a_full_part_reaches_lambda_in_one_event() -> None:
    form, content_type = part_form(bytes(PART_BYTES))

    # API Gateway hands a multipart body to Lambda base64-encoded.
    assert len(base64.b64encode(form)) + EVENT_ROOM_BYTES <= LAMBDA_MAX_EVENT_BYTES
    assert content_type.startswith("multipart/form-data; boundary=")
