import json
from pathlib import Path

import pytest

from embedded.launcher import LaunchedStack
from embedded.simulator import Simulator
from embedded.tests.conftest import CONSOLE, KEY, STACK_ENVIRONMENT, chat_line


def test_startup_announces_url_keys_upstream_and_ready(stack: LaunchedStack) -> None:
    announced = "".join(stack.output)

    assert f"API        {stack.base_url}" in announced
    assert f"Web page   {stack.base_url}/watch" in announced
    assert f"API key    {KEY}  (tenant tenant-a)" in announced
    assert "Upstream   SIMULATOR at http://127.0.0.1:" in announced
    assert "State lives in memory" in announced
    assert f"Ready on {stack.base_url}\n" in announced


def test_upstream_base_url_sends_lines_to_that_server() -> None:
    other = Simulator(api_key="sk-other-upstream").start()
    try:
        running = LaunchedStack(
            {**STACK_ENVIRONMENT, "UPSTREAM_BASE_URL": other.base_url, "UPSTREAM_API_KEY": "sk-other-upstream"}
        )
        try:
            assert f"Upstream   {other.base_url}" in "".join(running.output)
            lines = [chat_line(f"o{n}", f"elsewhere {n}") for n in range(3)]
            created = running.request(
                "POST", CONSOLE, KEY, body={"endpoint": "/v1/chat/completions", "requests": lines}
            )
            batch = running.wait_for_batch(created.json()["id"], KEY)
        finally:
            assert running.stop() == 0
    finally:
        other.stop()

    assert batch["request_counts"]["completed"] == 3
    assert {text: count for text, count in other.calls.items()} == {f"elsewhere {n}": 1 for n in range(3)}


def test_a_stack_that_cannot_start_is_reported_with_its_output() -> None:
    with pytest.raises(RuntimeError) as failed:
        LaunchedStack({"BATCH_API_KEYS": "no-key-here"})

    assert str(failed.value) == (
        "the local stack exited before it was ready:\nBATCH_API_KEYS must look like 'tenant-a=key1,tenant-b=key2'\n"
    )


def test_startup_writes_the_functions_environment_for_sam_local(stack: LaunchedStack) -> None:
    [path] = [line.split("--env-vars ", 1)[1].strip() for line in stack.output if "sam local  --env-vars" in line]

    env_vars = json.loads(Path(path).read_text())

    assert env_vars["Parameters"]["AWS_ENDPOINT_URL"].startswith("http://host.docker.internal:")
    executor = env_vars["ExecutorFunction"]
    assert executor["TABLE_NAME"] == "batch-local-BatchTable" and executor["WORK_QUEUE_URL"].endswith("WorkQueue")
    assert executor["UPSTREAM_BASE_URL"].startswith("http://host.docker.internal:")
    assert set(env_vars) >= {"ApiFunction", "PrepareFunction", "FinalizeFunction", "AuthorizerFunction"}
