"""The executor function on in-memory stores: a unit that must wait goes back to the queue with its delay."""

import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from batch_core.dal.stores import Stores
from batch_core.models.work_unit import WorkUnit
from tests.unit.fakes.queue import Requeued
from tests.unit.fakes.upstream import TableUpstream, status
from tests.unit.given import INVOCATION_SECONDS, SETTINGS, new_stores, prepared, routed

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "functions" / "executor" / "app.py"
EVENTS = ROOT / "events"


@dataclass
class Context:
    function_name: str = "executor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:executor"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return int(INVOCATION_SECONDS * 1000)


def executor(monkeypatch: pytest.MonkeyPatch, stores: Stores, upstream: TableUpstream) -> ModuleType:
    """The executor function's module, its stores and upstream the test's own."""
    spec = importlib.util.spec_from_file_location("executor_app", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "SETTINGS", SETTINGS)
    monkeypatch.setattr(module, "STORES", stores)
    monkeypatch.setattr(module, "UPSTREAMS", routed(upstream))
    return module


def sqs_event(message: WorkUnit, message_id: str = "m1") -> dict[str, Any]:
    """The sample SQS event of events/, carrying `message`."""
    record = json.loads((EVENTS / "executor_work_unit.json").read_text())["Records"][0]
    record.update(
        messageId=message_id, receiptHandle=f"receipt-{message_id}", body=message.model_dump_json(exclude_none=True)
    )
    return {"Records": [record]}


def test_a_unit_backing_off_is_requeued_with_its_delay_and_its_message_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    prepared(stores, ["a", "b", "c"])
    message = stores.queue.sent[0]
    handler = executor(monkeypatch, stores, TableUpstream({"b": [status(429, retry_after=40)]}))

    answer = handler.lambda_handler(sqs_event(message), Context())

    assert answer == {"batchItemFailures": []}
    assert stores.queue.requeued == [Requeued(message, 40)]


def test_a_redelivery_of_an_unfinished_attempt_stays_hidden_for_its_lease_and_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores = new_stores()
    batch = prepared(stores, ["a", "b", "c"])
    message = stores.queue.sent[0]
    stores.units.claim(batch.id, 0, now=int(time.time()), lease_seconds=SETTINGS.lease_seconds, holder="m1")
    handler = executor(monkeypatch, stores, TableUpstream())

    answer = handler.lambda_handler(sqs_event(message, "m1"), Context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert stores.queue.requeued == []
    assert stores.queue.delayed["receipt-m1"] in (SETTINGS.lease_seconds - 1, SETTINGS.lease_seconds)


def test_an_attempt_reports_its_lines_calls_and_tokens_as_metrics_without_tenant_or_batch_dimensions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stores = new_stores()
    prepared(stores, ["a", "b", "c"])
    upstream = TableUpstream({"b": [status(503)], "c": [status(400)]})
    handler = executor(monkeypatch, stores, upstream)
    capsys.readouterr()

    handler.lambda_handler(sqs_event(stores.queue.sent[0]), Context())

    [emitted] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [directive] = emitted["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "BatchApi"
    assert {name for names in directive["Dimensions"] for name in names} <= {"service"}
    assert {name: emitted[name] for name in ("LinesSucceeded", "LinesFailed", "LinesRetried", "InputTokens")} == {
        "LinesSucceeded": [1.0],
        "LinesFailed": [1.0],
        "LinesRetried": [1.0],
        "InputTokens": [3.0],
    }
    assert len(emitted["UpstreamLatency"]) == 3 and all(value >= 0 for value in emitted["UpstreamLatency"])
