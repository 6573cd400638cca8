import json

import boto3

from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_A, chat_line

BODY = {"endpoint": "/v1/chat/completions", "requests": [chat_line("once", "only once")]}


def _create(system: LocalSystem, body: dict, key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    return system.request("POST", CONSOLE, key=KEY_A, body=json.dumps(body).encode(), headers=headers)


def _executions(system: LocalSystem) -> int:
    arn = system.stack.ref("BatchStateMachine")
    return len(boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_batch(system: LocalSystem) -> None:
    first = _create(system, BODY, "retry-1")
    again = _create(system, BODY, "retry-1")

    assert first.status == again.status == 201
    assert again.json()["id"] == first.json()["id"]
    assert _executions(system) == 1


def test_the_same_key_with_another_body_is_refused(system: LocalSystem) -> None:
    _create(system, BODY, "retry-2")

    other = _create(system, {**BODY, "metadata": {"changed": "yes"}}, "retry-2")

    assert other.status == 409
    assert other.json() == {"error": "this Idempotency-Key was already used with a different request body"}
    assert _executions(system) == 1


def test_without_a_key_each_create_is_a_new_batch(system: LocalSystem) -> None:
    ids = {_create(system, BODY, None).json()["id"] for _ in range(2)}

    assert len(ids) == 2
    assert _executions(system) == 2
