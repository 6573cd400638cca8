from typing import Any

import boto3
import pytest

from batch_core.errors import StorageError
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line, wait_for

CHAT = "/v1/chat/completions"
BUCKETS = "/api/client/v1/files/buckets"


def execution_status(system: LocalSystem, batch_id: str, timeout: float = 20) -> str:
    """The batch's execution status once it has stopped running."""
    sfn = boto3.client("stepfunctions")
    arn = system.stack.ref("BatchStateMachine").replace(":stateMachine:", ":execution:") + f":{batch_id}"

    def stopped() -> str | None:
        status = sfn.describe_execution(executionArn=arn)["status"]
        return None if status == "RUNNING" else status

    return wait_for(stopped, timeout)


def bucket_keys(console: Console, bucket: str) -> list[str]:
    return [file["key"] for file in console.call("GET", f"{BUCKETS}/{bucket}/objects").json()["files"]]


def test_a_finalize_retried_after_writing_leaves_one_output_object_and_the_execution_succeeds(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_core import finalize  # after the stack set the environment its metrics read

    real_update = finalize.update_batch_in_db
    failed_once: list[str] = []

    def fail_the_first_ending(batch_id: str, **arguments: Any) -> Any:
        if "status" in arguments["changes"] and not failed_once:
            failed_once.append(batch_id)
            raise StorageError("the table did not answer")
        return real_update(batch_id, **arguments)

    monkeypatch.setattr(finalize, "update_batch_in_db", fail_the_first_ending)
    lines = [chat_line(f"o{n}", f"output {n}") for n in range(4)]

    created = console.create({"endpoint": CHAT, "requests": lines, "output_bucket_key": "outputs"}).json()
    batch = console.wait(created["id"])

    assert failed_once == [batch["id"]]
    assert batch["status"] == "completed"
    assert bucket_keys(console, "outputs") == [f"{batch['id']}_output.jsonl"]
    assert batch["output_file"] == {"bucket_key": "outputs", "object_key": f"{batch['id']}_output.jsonl"}
    written = console.call("GET", f"{BUCKETS}/outputs/objects/{batch['id']}_output.jsonl/download").body
    assert written.decode().count("\n") == 4
    assert execution_status(system, batch["id"]) == "SUCCEEDED"


def test_a_duplicate_finalize_that_ends_the_batch_first_leaves_the_execution_succeeded(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_core import finalize  # after the stack set the environment its metrics read

    real_store = finalize.store_batch_output
    duplicates: list[str] = []

    def finalize_again_meanwhile(tenant_id: str, bucket: str, batch_id: str, source_key: str, size: int) -> str:
        if not duplicates:
            duplicates.append("running")
            duplicates[0] = finalize.finalize_batch(batch_id, "completed")
        return real_store(tenant_id, bucket, batch_id, source_key, size)

    monkeypatch.setattr(finalize, "store_batch_output", finalize_again_meanwhile)
    lines = [chat_line(f"t{n}", f"twice {n}") for n in range(4)]

    created = console.create({"endpoint": CHAT, "requests": lines, "output_bucket_key": "outputs"}).json()
    batch = console.wait(created["id"])

    assert duplicates == ["completed"]
    assert execution_status(system, batch["id"]) == "SUCCEEDED"
    assert console.get(batch["id"]).json()["status"] == "completed"
    assert bucket_keys(console, "outputs") == [f"{batch['id']}_output.jsonl"]


def test_mark_failed_on_a_batch_that_already_ended_answers_its_status_and_changes_nothing(
    console: Console, system: LocalSystem
) -> None:
    batch = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("a", "done")]}).json()["id"])

    answer = system.lambdas.invoke(
        system.stack.ref("MarkFailedFunction"),
        {"batch_id": batch["id"], "failure": {"Error": "Lambda.Unknown", "Cause": "late"}},
    )

    assert answer == {"status": "completed"}
    assert console.get(batch["id"]).json() == batch
