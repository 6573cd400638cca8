import json
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from batch_core import responses, results
from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, Console, chat_line, started_system

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_sample_api_event_creates_a_batch_through_the_real_handler(system: LocalSystem) -> None:
    event = json.loads((EVENTS / "api_create_batch.json").read_text())

    answer = system.lambdas.invoke(system.stack.ref("ApiFunction"), event)

    assert answer["statusCode"] == 201
    assert json.loads(answer["body"])["request_counts"]["total"] == 1


def test_sample_authorizer_event_maps_the_key_to_its_tenant(system: LocalSystem) -> None:
    event = json.loads((EVENTS / "authorizer_request.json").read_text())

    answer = system.lambdas.invoke(system.stack.ref("AuthorizerFunction"), event)

    assert answer == {"isAuthorized": True, "context": {"tenant_id": "tenant-a"}}


def test_finalize_writes_output_and_error_files_in_input_order(console: Console, system: LocalSystem) -> None:
    lines = [chat_line(f"f{n}", f"file {n}" + (" [fault:400]" if n in (1, 4) else "")) for n in range(6)]
    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    s3 = boto3.client("s3")
    bucket = system.stack.ref("BatchBucket")
    blobs = system.stores.blobs
    output_key, error_key = blobs.output_key("tenant-a", batch["id"]), blobs.error_key("tenant-a", batch["id"])
    output = s3.get_object(Bucket=bucket, Key=output_key)["Body"].read().decode().splitlines()
    errors = s3.get_object(Bucket=bucket, Key=error_key)["Body"].read().decode().splitlines()

    assert [json.loads(line)["custom_id"] for line in output] == ["f0", "f2", "f3", "f5"]
    assert [json.loads(line)["custom_id"] for line in errors] == ["f1", "f4"]
    assert json.loads(errors[0])["response"]["status_code"] == 400


def test_object_writer_switches_to_multipart_past_one_part(system: LocalSystem) -> None:
    line = b"x" * 1023 + b"\n"
    with system.stores.blobs.writer("tenant-a/test/big.jsonl") as writer:
        for _ in range(9 * 1024):
            writer.write(line)

    assert writer.written
    stored = boto3.client("s3").head_object(Bucket=system.stack.ref("BatchBucket"), Key="tenant-a/test/big.jsonl")
    assert stored["ContentLength"] == 9 * 1024 * 1024
    assert stored["ETag"].strip('"').endswith("-2")


def test_object_writer_writes_nothing_for_an_empty_object(system: LocalSystem) -> None:
    with system.stores.blobs.writer("tenant-a/test/empty.jsonl") as writer:
        pass

    assert writer.written is False
    assert (
        boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"), Prefix="tenant-a/test/")["KeyCount"]
        == 0
    )


def test_results_larger_than_a_lambda_response_redirect_to_a_streamed_object(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [chat_line(f"r{n}", f"results {n}") for n in range(5)]
    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])
    inline = console.results(batch["id"]).body
    monkeypatch.setattr(results, "INLINE_LIMIT_BYTES", 100)

    answer = console.results(batch["id"])

    assert answer.status == 302
    key = system.stores.blobs.results_key("tenant-a", batch["id"], None)
    assert key in answer.headers["location"]
    spooled = boto3.client("s3").get_object(Bucket=system.stack.ref("BatchBucket"), Key=key)["Body"].read()
    assert spooled == inline


HEAVY = "\u0001"  # seven bytes once escaped in the body and again in Lambda's answer
HEAVY_METADATA = {HEAVY * 62 + f"{n:02d}": HEAVY * 512 for n in range(16)}


def _heavy_batches(console: Console, count: int) -> list[str]:
    """Batches with the most metadata allowed: about 65 KB each in Lambda's answer; ended, so two reads of a
    page see the same batches."""
    line = {"custom_id": "m", "body": {"model": "e", "input": "x"}}
    body = {"endpoint": "/v1/embeddings", "requests": [line], "metadata": HEAVY_METADATA}
    ids = [console.create(body).json()["id"] for _ in range(count)]
    for batch_id in ids:
        console.wait(batch_id)
    return list(reversed(ids))


def _spooled(system: LocalSystem, location: str) -> bytes:
    bucket = system.stack.ref("BatchBucket")
    key = urlparse(location).path.lstrip("/").removeprefix(f"{bucket}/")
    assert key.startswith("spool/tenant-a/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_console_batch_list_past_the_response_limit_redirects_to_the_whole_page(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _heavy_batches(console, 5)
    inline = console.call("GET", CONSOLE).json()
    monkeypatch.setattr(responses, "RESPONSE_LIMIT_BYTES", 200_000)

    answer = console.call("GET", CONSOLE)

    assert answer.status == 302 and answer.body == b""
    page = json.loads(_spooled(system, answer.headers["location"]))
    assert [batch["id"] for batch in page["data"]] == ids
    assert page["data"][0]["metadata"] == HEAVY_METADATA and page == inline


def test_an_openai_batch_list_past_the_response_limit_shrinks_the_page_and_says_has_more(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _heavy_batches(console, 5)
    monkeypatch.setattr(responses, "RESPONSE_LIMIT_BYTES", 200_000)

    pages = [console.call("GET", "/v1/batches", query="limit=100").json()]
    while pages[-1]["has_more"]:
        pages.append(console.call("GET", "/v1/batches", query=f"limit=100&after={pages[-1]['last_id']}").json())

    assert [len(page["data"]) for page in pages] == [2, 2, 1]
    assert [batch["id"] for page in pages for batch in page["data"]] == ids


def test_a_response_escaped_past_the_limit_is_measured_as_lambda_counts_it(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = console.create(
        {"endpoint": "/v1/chat/completions", "requests": [chat_line("q", "\u00e9" * 20_000)]}
    ).json()["id"]
    console.wait(batch_id)
    inline = console.results(batch_id).body
    monkeypatch.setattr(responses, "RESPONSE_LIMIT_BYTES", 100_000)

    answer = console.results(batch_id)

    assert len(inline) < 100_000 < len(json.dumps(inline.decode()))
    assert answer.status == 302 and _spooled(system, answer.headers["location"]) == inline


def test_each_local_system_runs_the_api_function_with_its_own_settings(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The api function's sibling modules build settings at import, as a Lambda container does: a second
    system started in the same process must not answer with the first one's."""
    lines = [chat_line(f"c{n}", "hi") for n in range(3)]
    answers = []
    for most_lines in ("100", "2"):
        with started_system(simulator, monkeypatch, MAX_LINES_PER_BATCH=most_lines) as local:
            answers.append(Console(local).create({"endpoint": "/v1/chat/completions", "requests": lines}).status)

    assert answers == [201, 400]
