import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from embedded.gateway import GatewayResponse
from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.waiting import wait_for

KEY_A = "key-tenant-a"
KEY_B = "key-tenant-b"
UPSTREAM_KEY = "sk-upstream-test"
CONSOLE = "/api/client/v1/batches"
TERMINAL = {"completed", "failed", "expired", "cancelled"}

TEST_ENVIRONMENT = {
    "WORK_UNIT_LINES": "3",
    "LEASE_SECONDS": "5",
    "WATCHDOG_SECONDS": "2",
    "MIN_COMPLETION_WINDOW_SECONDS": "1",
    "UPSTREAM_TIMEOUT_SECONDS": "1",
    "EXECUTOR_TIMEOUT_SECONDS": "4",
    "SAVE_MARGIN_SECONDS": "1",
    "RETRY_BASE_SECONDS": "1",
    "MAX_LINE_ATTEMPTS": "3",
    "MAX_LINES_PER_BATCH": "100",
}


class Console:
    """The console surface, over the local gateway, as a client sees it."""

    def __init__(self, system: LocalSystem, key: str | None = KEY_A):
        self.system = system
        self.key = key

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> GatewayResponse:
        data = json.dumps(body).encode() if body is not None else b""
        return self.system.request(method, path, key=self.key, body=data, query=query)

    def create(self, body: dict[str, Any]) -> GatewayResponse:
        return self.call("POST", CONSOLE, body)

    def get(self, batch_id: str) -> GatewayResponse:
        return self.call("GET", f"{CONSOLE}/{batch_id}")

    def cancel(self, batch_id: str) -> GatewayResponse:
        return self.call("POST", f"{CONSOLE}/{batch_id}/cancel")

    def items(self, batch_id: str, query: str = "") -> GatewayResponse:
        return self.call("GET", f"{CONSOLE}/{batch_id}/items", query=query)

    def results(self, batch_id: str, query: str = "") -> GatewayResponse:
        return self.call("GET", f"{CONSOLE}/{batch_id}/results", query=query)

    def result_lines(self, batch_id: str, query: str = "") -> list[dict[str, Any]]:
        answer = self.results(batch_id, query)
        assert answer.status == 200, answer.body
        return [json.loads(line) for line in answer.body.splitlines()]

    def wait(
        self, batch_id: str, statuses: set[str] = TERMINAL, timeout: float = 60, deliver: bool = True
    ) -> dict[str, Any]:
        """Waits for the batch to reach one of `statuses`, delivering queued work meanwhile unless told not to."""

        def reached() -> dict[str, Any] | None:
            batch = self.get(batch_id).json()
            return batch if batch["status"] in statuses else None

        if deliver:
            return self.system.run_until(reached, timeout)
        return wait_for(reached, timeout)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    upstream = Simulator(api_key=UPSTREAM_KEY, timeout_seconds=2).start()
    yield upstream
    upstream.stop()


@pytest.fixture
def system(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSystem]:
    with started_system(simulator, monkeypatch) as local:
        yield local


@contextlib.contextmanager
def started_system(simulator: Simulator, monkeypatch: pytest.MonkeyPatch, **environment: str) -> Iterator[LocalSystem]:
    """The template deployed on a fresh moto, with tenants a and b, the functions' environment being
    TEST_ENVIRONMENT with `environment` over it."""
    variables = {**TEST_ENVIRONMENT, **environment}
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}),
        LocalSystem.start(
            parameters={"UpstreamBaseUrl": simulator.base_url, "UpstreamApiKey": UPSTREAM_KEY},
            environment=variables,
            set_env=monkeypatch.setenv,
        ) as local,
    ):
        # The executor's local Lambda timeout as these settings know it, so its attempts are time-boxed for real.
        executor = local.stack.functions[local.stack.ref("ExecutorFunction")]
        executor.timeout_seconds = float(variables["EXECUTOR_TIMEOUT_SECONDS"])
        local.add_api_key(KEY_A, "tenant-a")
        local.add_api_key(KEY_B, "tenant-b")
        yield local
        _stop_executions(local)


def _stop_executions(local: LocalSystem) -> None:
    sfn = boto3.client("stepfunctions")
    arn = local.stack.ref("BatchStateMachine")
    for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
        # moto cannot stop an execution that has not entered its first state yet; it ends with the mock.
        with contextlib.suppress(Exception):
            sfn.stop_execution(executionArn=execution["executionArn"])


@pytest.fixture
def console(system: LocalSystem) -> Console:
    return Console(system)


def chat_line(custom_id: str, text: str, model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": model, "messages": [{"role": "user", "content": text}]}}


def input_file_lines(prefix: str, count: int) -> bytes:
    """An OpenAI batch input file of `count` chat lines with custom ids `<prefix>0`, `<prefix>1`, …"""
    lines = [
        {
            "custom_id": f"{prefix}{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": chat_line("", f"{n}")["body"],
        }
        for n in range(count)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def queue_url(system: LocalSystem, logical_id: str) -> str:
    return system.stack.ref(logical_id)


def set_queue(system: LocalSystem, logical_id: str, **attributes: str) -> None:
    boto3.client("sqs").set_queue_attributes(QueueUrl=queue_url(system, logical_id), Attributes=attributes)


def table_holds_only_api_keys(system: LocalSystem) -> bool:
    """Nothing but the tenants' API keys is stored: the table has as many items as the key store lists."""
    items = boto3.client("dynamodb").scan(TableName=system.stack.ref("BatchTable"), Select="COUNT")
    return items["Count"] == len(system.stores.api_keys.list())
