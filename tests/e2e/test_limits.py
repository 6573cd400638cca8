"""Sizes at the edges, over real HTTP: a client's oversized field is a 400 that writes nothing, and an answer
near Lambda's 6 MB limit (counted after JSON escaping and base64) is a 200 or a 302 to the full content."""

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from tests.e2e.conftest import CONSOLE, KEY_A, Answer, RunningStack

BUCKETS = "/api/client/v1/files/buckets"
LAMBDA_LIMIT = 6 * 1024 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(stack: RunningStack, path: str, key: str = KEY_A) -> tuple[int, bytes]:
    """The status the API answered and the content it leads to: its body, or what its redirect points at
    (fetched without the API key, as clients drop credentials on a redirect to another host)."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.base_url + path, headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as failure:
        if failure.code != 302:
            return failure.code, failure.read()
        with urllib.request.urlopen(failure.headers["Location"], timeout=60) as target:  # noqa: S310 - loopback
            return 302, target.read()


def _upload_object(stack: RunningStack, bucket: str, name: str, data: bytes) -> Answer:
    body = {"fileName": name, "data": base64.b64encode(data).decode()}
    return stack.call("POST", f"{BUCKETS}/{bucket}/objects", body=body)


def _objects_stored(stack: RunningStack, bucket: str) -> int:
    return stack.call("GET", f"{BUCKETS}/{bucket}/objects").json()["count"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"keyHint": "k" * 2000}, "keyHint: String should have at most 255 characters"),
        ({"metadata": {"big": "v" * 450_000}}, "metadata: metadata is longer than 8192 characters as JSON"),
    ],
)
def test_an_oversized_object_field_is_400_and_stores_no_object(
    stack: RunningStack, fields: dict[str, Any], message: str
) -> None:
    answer = stack.call("POST", f"{BUCKETS}/bounded/objects", body={"fileName": "a.txt", "data": "eA==", **fields})

    assert (answer.status, answer.json()) == (400, {"error": message})
    assert _objects_stored(stack, "bounded") == 0
    assert stack.call("GET", f"{BUCKETS}/bounded").status == 404


def test_an_upload_filename_of_500_kb_is_400_and_stores_no_file(stack: RunningStack, tmp_path: Path) -> None:
    client = OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)
    before = {file.id for file in client.files.list()}
    boundary = "edge"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{"f" * 500_000}"\r\n\r\n'
        f"x\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.base_url + "/v1/files",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {KEY_A}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    with pytest.raises(urllib.error.HTTPError) as rejected:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback

    assert rejected.value.code == 400
    error = json.loads(rejected.value.read())["error"]
    assert (error["message"], error["param"]) == ("the 'file' part's filename is longer than 255 characters", "file")
    assert {file.id for file in client.files.list()} == before


@pytest.fixture(scope="module")
def embedding_batch(stack: RunningStack) -> str:
    """250 lines of 3,072-dimension vectors: about 30 KB of answer each, 7.5 MB in one items page."""
    lines = [{"custom_id": f"e{n}", "body": {"model": "e", "input": f"v{n}", "dimensions": 3072}} for n in range(250)]
    batch_id = stack.call("POST", CONSOLE, body={"endpoint": "/v1/embeddings", "requests": lines}).json()["id"]
    assert stack.wait(batch_id, timeout=300)["status"] == "completed"
    return batch_id


def test_an_items_page_past_the_limit_redirects_to_the_whole_page(stack: RunningStack, embedding_batch: str) -> None:
    status, content = fetch(stack, f"{CONSOLE}/{embedding_batch}/items?limit=250")
    small_status, small = fetch(stack, f"{CONSOLE}/{embedding_batch}/items?limit=100")

    page = json.loads(content)["data"]
    assert status == 302 and len(content) > LAMBDA_LIMIT
    assert [item["custom_id"] for item in page] == [f"e{n}" for n in range(250)]
    assert {len(item["response_body"]["data"][0]["embedding"]) for item in page} == {3072}
    assert small_status == 200 and json.loads(small)["data"] == page[:100]


@pytest.fixture(scope="module")
def escaped_batch(stack: RunningStack) -> str:
    """3.4 MB of results whose every character is escaped to six bytes in Lambda's answer: 10 MB in all."""
    lines = [
        {
            "custom_id": f"q{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": "\u00e9" * 17_000}]},
        }
        for n in range(100)
    ]
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    key = _upload_object(stack, "escaped", "in.jsonl", data).json()["file"]["key"]
    body = {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "escaped", "object_key": key}}
    batch_id = stack.call("POST", CONSOLE, body=body).json()["id"]
    assert stack.wait(batch_id, timeout=300)["status"] == "completed"
    return batch_id


def test_console_results_under_5_mb_that_escape_past_the_limit_redirect_to_every_line(
    stack: RunningStack, escaped_batch: str
) -> None:
    status, content = fetch(stack, f"{CONSOLE}/{escaped_batch}/results")

    lines = [json.loads(line) for line in content.splitlines()]
    assert status == 302 and len(content) < 5 * 1024 * 1024
    assert [line["custom_id"] for line in lines] == [f"q{n}" for n in range(100)]
    replies = {line["response"]["body"]["choices"][0]["message"]["content"] for line in lines}
    assert replies == {"Simulated reply to: " + "\u00e9" * 17_000}


@pytest.mark.parametrize(("size", "expected_status"), [(4_100_000, 200), (4_900_000, 302)])
def test_file_content_near_5_mb_reaches_the_openai_sdk_whole(
    stack: RunningStack, tmp_path: Path, size: int, expected_status: int
) -> None:
    client = OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)
    line = (json.dumps({"q": '"\u00e9\\\\' * 40}, ensure_ascii=False) + "\n").encode()
    data = line * (size // len(line))
    data += b" " * (size - len(data))
    path = tmp_path / "near.jsonl"
    path.write_bytes(data)
    uploaded = client.uploads.upload_file_chunked(
        file=path, mime_type="application/jsonl", purpose="batch", part_size=3 * 1024 * 1024
    )
    assert uploaded.file is not None

    status, content = fetch(stack, f"/v1/files/{uploaded.file.id}/content")

    assert (status, content) == (expected_status, data)
    assert client.files.content(uploaded.file.id).content == data
