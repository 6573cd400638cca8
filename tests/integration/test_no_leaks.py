import base64
import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line
from tests.sqs_records import sqs_record

CHAT = "/v1/chat/completions"


def test_an_unreachable_upstream_is_named_by_its_fault_class_and_its_address_stays_in_the_log(
    console: Console, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    address = simulator.base_url.removeprefix("http://").removesuffix("/v1")
    host, port = address.split(":")
    simulator.stop()

    batch = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("c", "hello")]}).json()["id"])

    expected = "upstream unreachable after 3 attempts (NewConnectionError)"
    item = console.items(batch["id"]).json()["data"][0]
    assert (item["status"], item["error_message"]) == ("failed", expected)
    [line] = console.result_lines(batch["id"])
    assert line["error"] == {"code": "upstream_unreachable", "message": expected}
    seen_by_the_tenant = json.dumps([batch, item, line])
    assert port not in seen_by_the_tenant and host not in seen_by_the_tenant
    logged = [_as_logged(record) for record in caplog.records if record.getMessage() == "upstream unreachable"]
    assert len(logged) == 3 and all(entry["batch_id"] == batch["id"] for entry in logged)
    assert all(f"host='{host}', port={port}" in entry["error"] for entry in logged)


def _as_logged(record: logging.LogRecord) -> dict[str, Any]:
    """The JSON line Powertools writes for the record, keys appended by the handler included."""
    from batch_core.observability import logger

    return json.loads(logger.registered_formatter.format(record))


class RecordedSubsegment:
    def __init__(self, name: str):
        self.name = name
        self.metadata: dict[str, Any] = {}

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = value

    def put_annotation(self, key: str, value: Any) -> None:
        return


class RecordingTracerProvider:
    """Stands in for X-Ray: keeps what each handler's subsegment was given."""

    def __init__(self) -> None:
        self.subsegments: list[RecordedSubsegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str, **kwargs: Any) -> Iterator[RecordedSubsegment]:
        subsegment = RecordedSubsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> RecordingTracerProvider:
    # Imported here: the core's Powertools objects read the environment the test sets up when first imported.
    from batch_core.observability import tracer

    provider = RecordingTracerProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    return provider


def test_no_handler_response_reaches_a_trace(
    console: Console, system: LocalSystem, traces: RecordingTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoked: list[str] = []
    invoke = system.lambdas.invoke
    names = {spec.name: spec.logical_id for spec in system.stack.functions.values()}
    monkeypatch.setattr(
        system.lambdas,
        "invoke",
        lambda function, event: invoked.append(names[function.rsplit(":", 1)[-1]]) or invoke(function, event),
    )
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line("secret", "tenant data")]}).json()["id"]
    console.wait(batch_id)
    assert console.result_lines(batch_id)[0]["custom_id"] == "secret"
    rejected = console.create({"endpoint": CHAT, "input_file": _bad_input_file(console)}).json()["id"]
    assert console.wait(rejected)["status"] == "failed"
    system.lambdas.invoke(system.stack.ref("ExpireFunction"), {"batch_id": batch_id})
    unit = {"batch_id": batch_id, "unit": 0, "first": 0, "count": 1, "byte_start": 0, "byte_end": 1}
    record = sqs_record(json.dumps(unit))
    system.lambdas.invoke(system.stack.ref("DeadLetterFunction"), {"Records": [record]})
    ended = json.loads((Path(__file__).parents[2] / "events/execution_ended.json").read_text())
    ended["detail"]["name"] = batch_id
    system.lambdas.invoke(system.stack.ref("ExecutionEndedFunction"), ended)
    file_check = json.loads((Path(__file__).parents[2] / "events/check_file_message.json").read_text())
    system.lambdas.invoke(system.stack.ref("CheckFileFunction"), file_check)

    traced = [name for name in invoked if name != "AuthorizerFunction"]
    assert set(traced) == set(names.values()) - {"AuthorizerFunction"}
    assert len(traces.subsegments) == len(traced)
    assert [subsegment.metadata for subsegment in traces.subsegments] == [{} for _ in traced]


def _bad_input_file(console: Console) -> dict[str, str]:
    data = base64.b64encode(b"{not json\n").decode()
    answer = console.call("POST", "/api/client/v1/files/buckets/in/objects", {"fileName": "bad.jsonl", "data": data})
    return {"bucket_key": "in", "object_key": answer.json()["file"]["key"]}
