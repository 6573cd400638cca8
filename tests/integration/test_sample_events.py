"""Every sample in events/ is invoked against the handler it belongs to, so the samples cannot rot: each
parses, and the handler answers as it does for a batch it cannot find (the samples name no real batch)."""

import json
from pathlib import Path

import pytest

from embedded.lambdas import HandlerError
from embedded.system import LocalSystem

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOT_FOUND = {"errorType": "BatchNotFound"}
# sample -> (function, the answer expected: a dict answered, or the error type raised)
SAMPLES = {
    "api_create_batch.json": ("ApiFunction", {"statusCode": 201}),
    "authorizer_request.json": ("AuthorizerFunction", {"isAuthorized": True}),
    "executor_work_unit.json": ("ExecutorFunction", {"batchItemFailures": []}),
    "prepare_task.json": ("PrepareFunction", NOT_FOUND),
    "check_task.json": ("CheckFunction", NOT_FOUND),
    "await_lines_task.json": ("AwaitLinesFunction", None),
    "expire_task.json": ("ExpireFunction", NOT_FOUND),
    "finalize_task.json": ("FinalizeFunction", NOT_FOUND),
    "mark_failed_task.json": ("MarkFailedFunction", NOT_FOUND),
    "execution_ended.json": ("ExecutionEndedFunction", {"status": "missing"}),
    "webhook_batch_ended.json": ("WebhookFunction", {"batchItemFailures": []}),
    "check_file_message.json": ("CheckFileFunction", {"batchItemFailures": []}),
}


def test_every_sample_has_a_handler() -> None:
    assert sorted(path.name for path in EVENTS.glob("*.json")) == sorted(SAMPLES)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_sample_event_is_answered_by_its_handler(system: LocalSystem, sample: str) -> None:
    function, expected = SAMPLES[sample]
    event = json.loads((EVENTS / sample).read_text())

    try:
        answer = system.lambdas.invoke(system.stack.ref(function), event)
    except HandlerError as failure:
        answer = {"errorType": failure.payload["errorType"]}

    if expected is None:
        assert answer is None
    else:
        assert {key: answer.get(key) for key in expected} == expected
