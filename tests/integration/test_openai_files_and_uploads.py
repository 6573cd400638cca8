import hashlib
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from batch_core.dal.clients import storage_error
from batch_core.dal.uploads_db import UploadStore
from embedded.gateway import GatewayResponse
from embedded.system import LocalSystem
from tests.integration.conftest import KEY_A, Console, chat_line, input_file_lines

_BOUNDARY = "test-form-boundary"


def _form(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    body = b""
    for name, (filename, data) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{_BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{_BOUNDARY}--\r\n".encode(), {"content-type": f"multipart/form-data; boundary={_BOUNDARY}"}


def _send_form(system: LocalSystem, path: str, fields: dict[str, tuple[str | None, bytes]]) -> GatewayResponse:
    body, headers = _form(fields)
    return system.request("POST", path, key=KEY_A, body=body, headers=headers)


def _upload_file(system: LocalSystem, name: str, data: bytes) -> dict[str, Any]:
    answer = _send_form(system, "/v1/files", {"purpose": (None, b"batch"), "file": (name, data)})
    assert answer.status == 200, answer.body
    return answer.json()


def _create_batch(console: Console, file_id: str) -> str:
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    answer = console.call("POST", "/v1/batches", body)
    assert answer.status == 200, answer.body
    return answer.json()["id"]


def _listed_files(console: Console) -> list[str]:
    return [file["filename"] for file in console.call("GET", "/v1/files").json()["data"]]


def _stored_keys(system: LocalSystem, prefix: str) -> list[str]:
    found = boto3.client("s3").list_objects_v2(Bucket=system.stack.ref("BatchBucket"), Prefix=prefix)
    return [item["Key"] for item in found.get("Contents", [])]


def test_deleting_the_input_file_while_its_batch_runs_lets_every_line_finish(
    console: Console, system: LocalSystem
) -> None:
    file_id = _upload_file(system, "running.jsonl", input_file_lines("r", 5))["id"]
    batch_id = _create_batch(console, file_id)
    console.wait(batch_id, {"in_progress"}, deliver=False)

    deleted = console.call("DELETE", f"/v1/files/{file_id}")
    batch = console.wait(batch_id)

    assert deleted.status == 200 and deleted.json() == {"id": file_id, "object": "file", "deleted": True}
    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 5
    assert [line["custom_id"] for line in console.result_lines(batch_id)] == [f"r{n}" for n in range(5)]


def test_a_batch_whose_file_was_deleted_before_it_was_prepared_fails_naming_the_file(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = _upload_file(system, "gone.jsonl", input_file_lines("g", 2))["id"]
    invoke = system.lambdas.invoke
    deletes: list[int] = []

    def delete_then_invoke(function: str, event: Any) -> Any:
        if function.endswith("PrepareFunction") and not deletes:
            deletes.append(console.call("DELETE", f"/v1/files/{file_id}").status)
        return invoke(function, event)

    monkeypatch.setattr(system.lambdas, "invoke", delete_then_invoke)
    batch = console.call("GET", f"/v1/batches/{console.wait(_create_batch(console, file_id))['id']}").json()

    assert deletes == [200] and batch["status"] == "failed"
    assert batch["errors"]["data"] == [
        {
            "code": "invalid_input",
            "message": f"input_file_id: file '{file_id}' changed or was deleted after the batch was created;"
            " create the batch again",
            "param": "input_file_id",
            "line": None,
        }
    ]


def _new_upload(console: Console, data: bytes, name: str) -> tuple[str, list[str]]:
    """An upload of `data` in two parts; returns its id and the part ids."""
    upload = console.call(
        "POST",
        "/v1/uploads",
        {"filename": name, "purpose": "batch", "bytes": len(data), "mime_type": "application/jsonl"},
    ).json()
    half = len(data) // 2
    parts = [
        _send_form(console.system, f"/v1/uploads/{upload['id']}/parts", {"data": ("blob", piece)}).json()["id"]
        for piece in (data[:half], data[half:])
    ]
    return upload["id"], parts


def test_concurrent_completes_of_one_upload_make_exactly_one_file(console: Console, system: LocalSystem) -> None:
    data = input_file_lines("c", 6)
    upload_id, parts = _new_upload(console, data, "concurrent.jsonl")
    start = threading.Barrier(4)
    answers: list[GatewayResponse] = []

    def complete() -> None:
        start.wait()
        answers.append(console.call("POST", f"/v1/uploads/{upload_id}/complete", {"part_ids": parts}))

    threads = [threading.Thread(target=complete) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answer.status for answer in answers) == [200, 400, 400, 400]
    winner = next(answer.json() for answer in answers if answer.status == 200)
    assert winner["status"] == "completed" and winner["file"]["bytes"] == len(data)
    assert _listed_files(console) == ["concurrent.jsonl"]
    assert _stored_keys(system, "files/") == [f"files/tenant-a/{winner['file']['id']}"]
    assert console.call("GET", f"/v1/files/{winner['file']['id']}/content").body == data


def test_a_wrong_md5_is_400_stores_no_file_and_leaves_the_upload_pending(console: Console, system: LocalSystem) -> None:
    data = input_file_lines("m", 3)
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    upload_id, parts = _new_upload(console, data, "checked.jsonl")

    wrong = console.call("POST", f"/v1/uploads/{upload_id}/complete", {"part_ids": parts, "md5": "0" * 32})
    right = console.call("POST", f"/v1/uploads/{upload_id}/complete", {"part_ids": parts, "md5": digest.upper()})

    assert wrong.status == 400
    assert wrong.json()["error"]["param"] == "md5"
    assert wrong.json()["error"]["message"] == f"the parts' md5 is {digest}, not {'0' * 32}"
    assert right.status == 200 and right.json()["status"] == "completed"
    assert _listed_files(console) == ["checked.jsonl"]
    assert _stored_keys(system, "files/") == [f"files/tenant-a/{right.json()['file']['id']}"]


def test_an_uploaded_file_expires_after_the_retention_period(system: LocalSystem) -> None:
    uploaded = _upload_file(system, "kept.jsonl", input_file_lines("k", 1))

    assert uploaded["expires_at"] == uploaded["created_at"] + 30 * 86400


def test_a_file_record_past_its_ttl_is_neither_listed_nor_found(console: Console, system: LocalSystem) -> None:
    kept = _upload_file(system, "kept.jsonl", input_file_lines("k", 1))
    expired = _upload_file(system, "expired.jsonl", input_file_lines("e", 1))
    stored = system.stores.files.get(expired["id"])
    assert stored is not None
    system.stores.files.put(stored.model_copy(update={"expires_at": int(time.time()) - 1}))

    assert console.call("GET", f"/v1/files/{expired['id']}").status == 404
    assert console.call("GET", f"/v1/files/{expired['id']}/content").status == 404
    assert _listed_files(console) == ["kept.jsonl"]
    assert console.call("GET", f"/v1/files/{kept['id']}").status == 200


def test_the_files_of_a_batch_expire_with_the_batch(console: Console) -> None:
    batch_id = console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("a", "x")]}).json()["id"]
    batch = console.call("GET", f"/v1/batches/{console.wait(batch_id)['id']}").json()

    retained = batch["expires_at"] + 30 * 86400
    for file_id in (batch["input_file_id"], batch["output_file_id"]):
        assert console.call("GET", f"/v1/files/{file_id}").json()["expires_at"] == retained


def test_the_bucket_lifecycle_expires_each_kind_by_prefix_and_never_the_users_objects(system: LocalSystem) -> None:
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=system.stack.ref("BatchBucket"))["Rules"]

    expiring = {rule["Filter"]["Prefix"]: rule["Expiration"]["Days"] for rule in rules if "Expiration" in rule}
    aborting = [rule for rule in rules if "AbortIncompleteMultipartUpload" in rule]
    assert expiring == {"batches/": 38, "files/": 31, "uploads/": 2, "staging/": 2, "spool/": 1}
    assert [(rule["Filter"]["Prefix"], rule["AbortIncompleteMultipartUpload"]) for rule in aborting] == [
        ("", {"DaysAfterInitiation": 1})
    ]


def test_a_completion_whose_answer_was_lost_after_it_committed_keeps_the_files_bytes(
    console: Console, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = input_file_lines("t", 2)
    upload_id, parts = _new_upload(console, data, "committed.jsonl")
    finish = UploadStore.finish

    def committed_then_no_answer(self: UploadStore, *arguments: Any) -> None:
        finish(self, *arguments)
        raise storage_error("could not complete the upload", ReadTimeoutError(endpoint_url="dynamodb"))

    monkeypatch.setattr(UploadStore, "finish", committed_then_no_answer)
    lost = console.call("POST", f"/v1/uploads/{upload_id}/complete", {"part_ids": parts})

    assert lost.status == 500
    listed = console.call("GET", "/v1/files").json()["data"]
    assert [file["filename"] for file in listed] == ["committed.jsonl"]
    assert console.call("GET", f"/v1/files/{listed[0]['id']}/content").body == data


# Every byte value, blank lines, and a line that is all but the form's delimiter (a client's boundary never
# occurs in what it sends).
BINARY = bytes(range(256)) + b"\r\n\r\n--" + _BOUNDARY[:-1].encode() + b"\r\n\r\n"


def test_a_file_uploaded_as_a_form_keeps_its_bytes_exactly(console: Console, system: LocalSystem) -> None:
    uploaded = _upload_file(system, "binary.bin", BINARY)

    assert uploaded["bytes"] == len(BINARY)
    assert console.call("GET", f"/v1/files/{uploaded['id']}/content").body == BINARY


def test_upload_parts_sent_as_forms_keep_their_bytes_exactly(console: Console) -> None:
    upload_id, parts = _new_upload(console, BINARY, "binary.bin")

    completed = console.call("POST", f"/v1/uploads/{upload_id}/complete", {"part_ids": parts}).json()

    assert completed["file"]["bytes"] == len(BINARY)
    assert console.call("GET", f"/v1/files/{completed['file']['id']}/content").body == BINARY
