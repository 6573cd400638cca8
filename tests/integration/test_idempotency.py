import base64
import json

import boto3
import pytest

from embedded.gateway import GatewayResponse
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_A, KEY_B, Console, chat_line

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


BOUNDARY = "oncebound"
FORM = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
BUCKET_OBJECTS = "/api/client/v1/files/buckets/once/objects"


def _form(fields: dict[str, tuple[str | None, bytes]]) -> bytes:
    body = b""
    for name, (filename, data) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _json(body: dict) -> tuple[bytes, dict[str, str]]:
    return json.dumps(body).encode(), {"content-type": "application/json"}


def _file_form(text: bytes) -> tuple[bytes, dict[str, str]]:
    return _form({"purpose": (None, b"batch"), "file": ("in.jsonl", text)}), FORM


def _upload(system: LocalSystem) -> str:
    body = {"filename": "u.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "application/jsonl"}
    return system.request("POST", "/v1/uploads", key=KEY_A, body=_json(body)[0]).json()["id"]


def _ended_batch_with_a_failed_line(system: LocalSystem) -> str:
    body = {"endpoint": "/v1/chat/completions", "requests": [chat_line("bad", "no [fault:400]")]}
    created = _create(system, body, None).json()["id"]
    Console(system).wait(created)
    return created


# Each create: its path (given what `setup` made), and its request and another request, as body and headers.
CREATES = {
    "console batch": (None, lambda _: CONSOLE, _json(BODY), _json({**BODY, "metadata": {"other": "x"}})),
    "console retry": (
        _ended_batch_with_a_failed_line,
        lambda batch_id: f"{CONSOLE}/{batch_id}/retry",
        (b"", {}),
        None,
    ),
    "console object": (
        None,
        lambda _: BUCKET_OBJECTS,
        _json({"fileName": "a.txt", "data": base64.b64encode(b"one").decode()}),
        _json({"fileName": "a.txt", "data": base64.b64encode(b"two").decode()}),
    ),
    "console presigned upload": (
        None,
        lambda _: "/api/client/v1/files/buckets/once/uploads",
        _json({"fileName": "b.txt"}),
        _json({"fileName": "c.txt"}),
    ),
    "console webhook": (
        None,
        lambda _: "/api/client/v1/webhooks",
        _json({"url": "http://127.0.0.1:9/hook"}),
        _json({"url": "http://127.0.0.1:9/other"}),
    ),
    "openai file": (None, lambda _: "/v1/files", _file_form(b'{"a": 1}\n'), _file_form(b'{"a": 2}\n')),
    "openai upload": (
        None,
        lambda _: "/v1/uploads",
        _json({"filename": "u.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "application/jsonl"}),
        _json({"filename": "u.jsonl", "purpose": "batch", "bytes": 11, "mime_type": "application/jsonl"}),
    ),
    "openai upload part": (
        _upload,
        lambda upload_id: f"/v1/uploads/{upload_id}/parts",
        (_form({"data": ("blob", b"0123456789")}), FORM),
        (_form({"data": ("blob", b"9876543210")}), FORM),
    ),
}


def _created_id(answer: GatewayResponse) -> str:
    body = answer.json()
    created = body["file"] if isinstance(body.get("file"), dict) else body
    return created.get("id") or created["_id"]


@pytest.mark.parametrize("create", list(CREATES))
def test_every_create_retried_with_its_idempotency_key_answers_the_first_result_and_another_request_is_refused(
    system: LocalSystem, create: str
) -> None:
    setup, path_of, (body, headers), other = CREATES[create]
    path = path_of(setup(system) if setup else None)
    key = {"Idempotency-Key": f"once-{create}"}

    first = system.request("POST", path, key=KEY_A, body=body, headers={**headers, **key})
    again = system.request("POST", path, key=KEY_A, body=body, headers={**headers, **key})
    elsewhere = system.request("POST", path, key=KEY_B, body=body, headers={**headers, **key})
    unkeyed = system.request("POST", path, key=KEY_A, body=body, headers=headers)

    assert first.status in (200, 201), first.body
    assert again.status == first.status and again.json() == first.json()
    assert _created_id(unkeyed) != _created_id(first)
    assert elsewhere.status in (404, first.status)
    if elsewhere.status == first.status:
        assert _created_id(elsewhere) != _created_id(first)
    if other is not None:
        refused = system.request("POST", path, key=KEY_A, body=other[0], headers={**other[1], **key})
        assert refused.status == 409 and "Idempotency-Key" in refused.body.decode()
