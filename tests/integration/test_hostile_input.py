"""Every route of both surfaces, every field, hostile values: no answer may be a 5xx.

The probes go through the local gateway, which admits what API Gateway and Lambda admit (bodies up to
10 MB, events up to 6 MB) and answers 413 beyond; everything it admits reaches the real handlers.
"""

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import (
    KEY_A,
    KEY_B,
    TEST_ENVIRONMENT,
    UPSTREAM_KEY,
    Console,
    _stop_executions,
    chat_line,
)

BATCHES = "/api/client/v1/batches"
BUCKETS = "/api/client/v1/files/buckets"
MB = 1024 * 1024
MISSING = object()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": [value]}
    return value


HOSTILE_VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "zero": 0,
    "-1": -1,
    "2**70": 2**70,
    "1e308": 1e308,
    "float": 0.5,
    "empty string": "",
    "blank": "   ",
    "NUL": "a\x00b",
    "lone surrogate": "\ud800",
    "traversal": "../../etc/passwd",
    "separator": "x#FILES",
    "unicode": "ünïcødé ✓ 𝔘",
    "100 KB string": "x" * 100_000,
    "4 MB string": "x" * (4 * MB),
    "list": [],
    "list of junk": [None, 1, "x", {}],
    "object": {},
    "object of junk": {"": None, "k": [1, {"x": None}]},
    "nested 200 deep": nested(200),
    "absent": MISSING,
}

RAW_BODIES: dict[str, bytes] = {
    "empty body": b"",
    "not JSON": b"{not json",
    "JSON null": b"null",
    "JSON array": b"[1, 2]",
    "JSON string": b'"text"',
    "JSON number": b"12",
    "non-UTF-8": b'{"a": "\xff\xfe"}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "duplicate keys": b'{"endpoint": 1, "endpoint": "/v1/embeddings"}',
    "9 MB of JSON": b'{"x": "' + b"y" * (9 * MB) + b'"}',
}

BAD_IDS: dict[str, str] = {
    "unknown": "batch_00000000000000000000000000",
    "dot dot": "..",
    "percent-encoded slash": "a%2Fb",
    "percent-encoded NUL": "a%00b",
    "bad percent": "%ff%fe",
    "hash": "x%23FILES",
    "unicode": "ünï",
    "1500 chars": "k" * 1500,
    "spaces": "a%20b",
}

BAD_QUERIES: list[str] = [
    "limit=-1",
    "limit=0",
    "limit=abc",
    "limit=99999999999999999999999",
    "limit=1.5",
    "limit=",
    "limit=1&limit=2",
    "skip=-1",
    "skip=abc",
    "skip=1000000000000",
    "status=bogus",
    "status=",
    "after=bogus",
    "after=batch_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "after=file-unknown",
    "cursor=bogus",
    "cursor=" + base64.urlsafe_b64encode(b'{"pk": {"S": "BATCH#x"}}').decode(),
    "cursor=%ff%fe",
    "after=" + "x" * 3000,
    "cursor=" + "x" * 3000,
]


@dataclass
class Probe:
    label: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    key: str | None = KEY_A


@dataclass
class World:
    """What each tenant owns before the probes start."""

    batch: str
    bucket: str
    object_key: str
    file: str
    upload: str
    other_batch: str
    other_object_key: str
    other_file: str
    other_upload: str


@pytest.fixture
def system(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSystem]:
    """The usual system, with a watchdog slow enough that the batches the probes create stay idle: with the
    usual 2 s, the hundreds of waiting workflows re-check their counters all the time and the run takes minutes."""
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}),
        LocalSystem.start(
            parameters={"UpstreamBaseUrl": simulator.base_url, "UpstreamApiKey": UPSTREAM_KEY},
            environment={**TEST_ENVIRONMENT, "WATCHDOG_SECONDS": "600"},
            set_env=monkeypatch.setenv,
        ) as local,
    ):
        local.add_api_key(KEY_A, "tenant-a")
        local.add_api_key(KEY_B, "tenant-b")
        yield local
        _stop_executions(local)


def _owned_by(system: LocalSystem, key: str) -> tuple[str, str, str, str]:
    console = Console(system, key)
    batch = console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("c", "hello")]}).json()["id"]
    console.wait(batch)
    data = base64.b64encode(json.dumps({"custom_id": "c", "body": chat_line("c", "x")["body"]}).encode()).decode()
    stored = console.call("POST", f"{BUCKETS}/in/objects", {"fileName": "a.jsonl", "data": data}).json()["file"]
    form, boundary = multipart({"purpose": (None, b"batch"), "file": ("a.jsonl", base64.b64decode(data))})
    uploaded = system.request(
        "POST", "/v1/files", key=key, body=form, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    ).json()["id"]
    upload = {"filename": "u.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "application/jsonl"}
    upload_id = console.call("POST", "/v1/uploads", upload).json()["id"]
    return batch, stored["key"], uploaded, upload_id


@pytest.fixture
def world(system: LocalSystem) -> World:
    batch, object_key, file_id, upload_id = _owned_by(system, KEY_A)
    other_batch, other_object_key, other_file, other_upload = _owned_by(system, KEY_B)
    return World(batch, "in", object_key, file_id, upload_id, other_batch, other_object_key, other_file, other_upload)


def multipart(parts: dict[str, tuple[str | None, bytes]], boundary: str = "hostileboundary") -> tuple[bytes, str]:
    body = b""
    for name, (filename, data) in parts.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), boundary


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of the document with the dotted path set to value (or removed, for MISSING)."""
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is MISSING:
        if isinstance(target, dict):
            target.pop(last, None)
        return changed
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def _leaves(document: Any, prefix: str = "") -> Iterator[str]:
    """Every field path of the document, containers included."""
    items = document.items() if isinstance(document, dict) else enumerate(document)
    for name, value in items:
        path = f"{prefix}{name}"
        yield path
        if isinstance(value, dict | list) and value:
            yield from _leaves(value, path + ".")


def _body_probes(label: str, path: str, valid: dict[str, Any], extra_fields: tuple[str, ...] = ()) -> Iterator[Probe]:
    fields = list(_leaves(valid)) + list(extra_fields)
    for name in fields:
        for value_name, value in HOSTILE_VALUES.items():
            document = _set(valid, name, value)
            yield Probe(f"{label} {name}={value_name}", "POST", path, body=json.dumps(document).encode())
    for body_name, body in RAW_BODIES.items():
        yield Probe(f"{label} {body_name}", "POST", path, body=body)
    yield Probe(f"{label} JSON as text/plain", "POST", path, body=json.dumps(valid).encode(), headers={})
    yield Probe(
        f"{label} non-UTF-8 as octet-stream",
        "POST",
        path,
        body=b"\xff\xfe\x00",
        headers={"content-type": "application/octet-stream"},
    )


def _console_batch_probes(world: World) -> Iterator[Probe]:
    valid = {
        "endpoint": "/v1/chat/completions",
        "requests": [chat_line("c", "x")],
        "completion_window": "24h",
        "metadata": {"k": "v"},
        "output_bucket_key": "out",
    }
    yield from _body_probes("create console batch", BATCHES, valid, ("input_file", "requests.0.body.messages.0"))
    from_file = {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "in", "object_key": world.object_key}}
    yield from _body_probes("create console batch from a bucket object", BATCHES, from_file)
    yield Probe(
        "create console batch with a huge Idempotency-Key",
        "POST",
        BATCHES,
        body=json.dumps(valid).encode(),
        headers={"content-type": "application/json", "idempotency-key": "k" * 100_000},
    )
    yield Probe(
        "create console batch, someone else's input object",
        "POST",
        BATCHES,
        body=json.dumps(_set(from_file, "input_file.object_key", world.other_object_key)).encode(),
    )
    for query in BAD_QUERIES:
        yield Probe(f"list console batches ?{query}", "GET", BATCHES, query)
        yield Probe(f"items ?{query}", "GET", f"{BATCHES}/{world.batch}/items", query)
        yield Probe(f"results ?{query}", "GET", f"{BATCHES}/{world.batch}/results", query)
    for id_name, batch_id in {**BAD_IDS, "other tenant's": world.other_batch}.items():
        yield Probe(f"get console batch {id_name}", "GET", f"{BATCHES}/{batch_id}")
        yield Probe(f"cancel console batch {id_name}", "POST", f"{BATCHES}/{batch_id}/cancel")
        yield Probe(f"items {id_name}", "GET", f"{BATCHES}/{batch_id}/items")
        yield Probe(f"results {id_name}", "GET", f"{BATCHES}/{batch_id}/results")
    yield Probe("cancel a finished console batch", "POST", f"{BATCHES}/{world.batch}/cancel")


def _bucket_probes(world: World) -> Iterator[Probe]:
    data = base64.b64encode(b"hello").decode()
    upload = {"fileName": "a.txt", "contentType": "text/plain", "data": data, "metadata": {"k": "v"}, "keyHint": "h"}
    yield from _body_probes("upload object", f"{BUCKETS}/in/objects", upload)
    for data_name, value in {
        "not base64": "%%%not base64%%%",
        "bad data URL": "data:text/plain;base64,%%%",
        "data URL without base64": "data:,hello",
        "4 MB of base64": base64.b64encode(b"z" * (3 * MB)).decode(),
    }.items():
        yield Probe(
            f"upload object data={data_name}",
            "POST",
            f"{BUCKETS}/in/objects",
            body=json.dumps(_set(upload, "data", value)).encode(),
        )
    presign = {k: v for k, v in upload.items() if k != "data"}
    yield from _body_probes("presign upload", f"{BUCKETS}/in/uploads", presign)
    buckets = {**BAD_IDS, "ordinary": "in"}
    keys = {**BAD_IDS, "other tenant's": world.other_object_key, "own": world.object_key}
    for bucket_name, bucket in buckets.items():
        yield Probe(
            f"upload object to bucket {bucket_name}",
            "POST",
            f"{BUCKETS}/{bucket}/objects",
            body=json.dumps(upload).encode(),
        )
        yield Probe(
            f"presign into bucket {bucket_name}",
            "POST",
            f"{BUCKETS}/{bucket}/uploads",
            body=json.dumps(presign).encode(),
        )
        yield Probe(f"list objects of bucket {bucket_name}", "GET", f"{BUCKETS}/{bucket}/objects")
        for key_name, key in keys.items():
            where = f"bucket {bucket_name} key {key_name}"
            yield Probe(f"get object {where}", "GET", f"{BUCKETS}/{bucket}/objects/{key}")
            yield Probe(f"download object {where}", "GET", f"{BUCKETS}/{bucket}/objects/{key}/download")
            yield Probe(f"complete upload {where}", "POST", f"{BUCKETS}/{bucket}/uploads/{key}/complete")
    for query in BAD_QUERIES:
        yield Probe(f"list objects ?{query}", "GET", f"{BUCKETS}/in/objects", query)
    for key_name, key in keys.items():
        yield Probe(f"delete object key {key_name}", "DELETE", f"{BUCKETS}/in/objects/{key}")


def _openai_file_probes(world: World) -> Iterator[Probe]:
    line = json.dumps(
        {"custom_id": "c", "method": "POST", "url": "/v1/chat/completions", "body": chat_line("c", "x")["body"]}
    )
    forms: dict[str, dict[str, tuple[str | None, bytes]]] = {
        "no file part": {"purpose": (None, b"batch")},
        "no purpose": {"file": ("a.jsonl", line.encode())},
        "wrong purpose": {"purpose": (None, b"fine-tune"), "file": ("a.jsonl", line.encode())},
        "non-UTF-8 purpose": {"purpose": (None, b"\xff"), "file": ("a.jsonl", line.encode())},
        "empty file": {"purpose": (None, b"batch"), "file": ("a.jsonl", b"")},
        "non-UTF-8 file": {"purpose": (None, b"batch"), "file": ("a.jsonl", b"\xff\xfe\x00")},
        "no filename": {"purpose": (None, b"batch"), "file": (None, line.encode())},
        "odd filename": {"purpose": (None, b"batch"), "file": ("../../\x00é#.jsonl", line.encode())},
        "huge filename": {"purpose": (None, b"batch"), "file": ("f" * 100_000, line.encode())},
        "4 MB file": {"purpose": (None, b"batch"), "file": ("a.jsonl", (line + "\n").encode() * (4 * MB // len(line)))},
    }
    for form_name, parts in forms.items():
        body, boundary = multipart(parts)
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        yield Probe(f"upload file {form_name}", "POST", "/v1/files", body=body, headers=headers)
        yield Probe(
            f"add upload part {form_name}", "POST", f"/v1/uploads/{world.upload}/parts", body=body, headers=headers
        )
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=", "application/json", ""):
        for body_name, body in {"garbage": b"\xff\xfe garbage --", "empty": b""}.items():
            headers = {"content-type": content_type}
            yield Probe(f"upload file {body_name} as {content_type!r}", "POST", "/v1/files", body=body, headers=headers)
            yield Probe(
                f"add upload part {body_name} as {content_type!r}",
                "POST",
                f"/v1/uploads/{world.upload}/parts",
                body=body,
                headers=headers,
            )
    for query in BAD_QUERIES:
        yield Probe(f"list files ?{query}", "GET", "/v1/files", query)
    for id_name, file_id in {**BAD_IDS, "other tenant's": world.other_file}.items():
        yield Probe(f"get file {id_name}", "GET", f"/v1/files/{file_id}")
        yield Probe(f"get file content {id_name}", "GET", f"/v1/files/{file_id}/content")
        yield Probe(f"delete file {id_name}", "DELETE", f"/v1/files/{file_id}")


def _openai_batch_probes(world: World) -> Iterator[Probe]:
    valid = {
        "input_file_id": world.file,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": {"k": "v"},
    }
    yield from _body_probes("create openai batch", "/v1/batches", valid)
    yield Probe(
        "create openai batch from someone else's file",
        "POST",
        "/v1/batches",
        body=json.dumps(_set(valid, "input_file_id", world.other_file)).encode(),
    )
    for query in BAD_QUERIES:
        yield Probe(f"list openai batches ?{query}", "GET", "/v1/batches", query)
    for id_name, batch_id in {**BAD_IDS, "other tenant's": world.other_batch}.items():
        yield Probe(f"get openai batch {id_name}", "GET", f"/v1/batches/{batch_id}")
        yield Probe(f"cancel openai batch {id_name}", "POST", f"/v1/batches/{batch_id}/cancel")


def _upload_probes(world: World) -> Iterator[Probe]:
    create = {"filename": "u.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "application/jsonl"}
    yield from _body_probes("create upload", "/v1/uploads", create)
    complete = {"part_ids": ["part_unknown"], "md5": "0" * 32}
    yield from _body_probes("complete upload", f"/v1/uploads/{world.upload}/complete", complete)
    for id_name, upload_id in {**BAD_IDS, "other tenant's": world.other_upload}.items():
        yield Probe(
            f"complete upload {id_name}",
            "POST",
            f"/v1/uploads/{upload_id}/complete",
            body=json.dumps(complete).encode(),
        )
        yield Probe(f"cancel upload {id_name}", "POST", f"/v1/uploads/{upload_id}/cancel")
        body, boundary = multipart({"data": (None, b"bytes")})
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        yield Probe(f"add upload part {id_name}", "POST", f"/v1/uploads/{upload_id}/parts", body=body, headers=headers)


def _authorization_probes() -> Iterator[Probe]:
    for header_name, value in {
        "huge key": "Bearer " + "k" * 100_000,
        "non-ASCII key": "Bearer ключ",
        "no key": "Bearer ",
        "other scheme": "Basic a2V5",
    }.items():
        yield Probe(f"list console batches, {header_name}", "GET", BATCHES, headers={"authorization": value}, key=None)


def _all_probes(world: World) -> Iterator[Probe]:
    yield from _console_batch_probes(world)
    yield from _bucket_probes(world)
    yield from _openai_file_probes(world)
    yield from _openai_batch_probes(world)
    yield from _upload_probes(world)
    yield from _authorization_probes()


def test_no_hostile_input_on_any_route_gets_a_server_error(system: LocalSystem, world: World) -> None:
    server_errors = []
    probes = list(_all_probes(world))

    for probe in probes:
        answer = system.request(
            probe.method, probe.path, key=probe.key, body=probe.body, query=probe.query, headers=probe.headers
        )
        if answer.status >= 500:
            server_errors.append(
                f"{answer.status} {probe.method} {probe.path[:80]} :: {probe.label[:100]} :: {answer.body[:160]!r}"
            )

    assert len(probes) > 1000
    assert server_errors == [], f"{len(server_errors)} of {len(probes)} probes answered 5xx:\n" + "\n".join(
        server_errors
    )


def test_a_form_text_part_that_is_not_utf8_is_a_400_naming_the_body(system: LocalSystem) -> None:
    body, boundary = multipart({"purpose": (None, b"\xffbatch"), "file": ("a.jsonl", b'{"custom_id": "c"}\n')})

    answer = system.request(
        "POST", "/v1/files", key=KEY_A, body=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )

    assert answer.status == 400
    assert answer.json()["error"] == {
        "message": "a part of the form is not UTF-8 text (byte 1 of the part)",
        "type": "invalid_request_error",
        "param": "body",
        "code": None,
    }


def test_a_purpose_sent_as_a_file_part_is_read_as_its_bytes(system: LocalSystem) -> None:
    body, boundary = multipart({"purpose": ("p.txt", b"\xff" * 1000), "file": ("a.jsonl", b'{"custom_id": "c"}\n')})

    answer = system.request(
        "POST", "/v1/files", key=KEY_A, body=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )

    assert answer.status == 400
    assert answer.json()["error"] == {
        "message": "purpose must be 'batch', not '" + "\ufffd" * 40 + "…'",
        "type": "invalid_request_error",
        "param": "purpose",
        "code": None,
    }


UNREADABLE_FORMS = [
    ("multipart/form-data", b"--x--\r\n", "the multipart/form-data body has no boundary"),
    ("multipart/form-data; boundary=", b"--x--\r\n", "the multipart/form-data body has no boundary"),
    ("text/plain", b"file", "a 'text/plain' body cannot be read; send JSON or multipart/form-data"),
    ("application/json", b"{}", "file: Field required"),
]


@pytest.mark.parametrize(("content_type", "body", "message"), UNREADABLE_FORMS)
def test_a_file_upload_that_is_not_a_readable_form_is_a_400(
    system: LocalSystem, content_type: str, body: bytes, message: str
) -> None:
    answer = system.request("POST", "/v1/files", key=KEY_A, body=body, headers={"content-type": content_type})

    assert answer.status == 400
    assert answer.json()["error"]["message"] == message
