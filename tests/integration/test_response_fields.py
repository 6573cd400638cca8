"""Every route of both surfaces, walked with real requests: no answer shows an internal field, a storage key or
the tenant's id, whatever the route answers (batches running, finished, failed or cancelled, files, buckets,
uploads, errors)."""

import base64
import importlib.util
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from embedded.gateway import GatewayResponse
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_A, Console, chat_line, input_file_lines
from tests.webhook_receiver import WebhookReceiver

TENANT = "tenant-a"  # the tenant the conftest gives KEY_A
BUCKETS = "/api/client/v1/files/buckets"
INTERNAL_FIELDS = {
    "task_token",
    "tenant_id",
    "tenant",
    "input_key",
    "source_key",
    "source_etag",
    "output_key",
    "error_key",
    "object_key",
    "s3_key",
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "ttl",
    "holder",
    "lease_until",
    "parts",
    "units",
    "unit_lines",
    "cancel_swept",
    "finisher_claimed",
    "input_uploaded",
    "lines_from_file",
}
# The console's batch names the object in the tenant's own bucket it reads or writes: that object_key is a name
# the tenant chose or sees in its bucket listing, not an S3 key.
CONSOLE_FILE_REFS = {"input_file", "output_file"}
# A presigned upload link is the one answer that must name its S3 key: the client PUTs the bytes there.
SIGNED_LINKS = {"uploadUrl"}
STORAGE_KEY = re.compile(r"(?<![\w/.-])(?:batches|files|buckets|staging|uploads|spool)/")


class Walk:
    """Calls routes as tenant A, keeping each answer and the routes it reached."""

    def __init__(self, system: LocalSystem):
        self.system = system
        self.console = Console(system, KEY_A)
        self.called: list[tuple[str, str]] = []
        self.answers: list[tuple[str, GatewayResponse]] = []

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        form: dict[str, tuple[str | None, bytes]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> GatewayResponse:
        sent = dict(headers or {})
        data = json.dumps(body).encode() if body is not None else b""
        if form is not None:
            data, sent["content-type"] = _form(form)
        answer = self.system.request(method, path, key=KEY_A, body=data, headers=sent)
        assert answer.status == status, (method, path, answer.body[:300])
        self.called.append((method, path))
        self.answers.append((f"{method} {path}", answer))
        return answer


def _form(parts: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str]:
    body = b""
    for name, (filename, data) in parts.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--walk\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + b"--walk--\r\n", "multipart/form-data; boundary=walk"


def _lines(*texts: str) -> list[dict[str, Any]]:
    """Console request lines; a `[fault:400]` text makes the simulator fail that line."""
    return [chat_line(f"c{n}", text) for n, text in enumerate(texts)]


def _walk_buckets(walk: Walk) -> str:
    """Returns the key of a JSONL object left in bucket `in`."""
    data = base64.b64encode(input_file_lines("b", 2)).decode()
    kept = walk.call("POST", f"{BUCKETS}/in/objects", {"fileName": "lines.jsonl", "data": data}, status=201)
    gone = walk.call("POST", f"{BUCKETS}/in/objects", {"fileName": "gone.txt", "data": "Z29uZQ=="}, status=201)
    presigned = walk.call(
        "POST", f"{BUCKETS}/in/uploads", {"fileName": "direct.txt", "metadata": {"team": "x"}}, status=201
    ).json()
    put = requests.put(presigned["uploadUrl"], data=b"direct bytes", headers=presigned["headers"], timeout=10)
    assert put.status_code == 200
    walk.call("POST", f"{BUCKETS}/in/uploads/{presigned['file']['key']}/complete")
    walk.call("GET", BUCKETS)
    walk.call("GET", f"{BUCKETS}/in")
    walk.call("GET", f"{BUCKETS}/in/objects")
    key = kept.json()["file"]["key"]
    walk.call("GET", f"{BUCKETS}/in/objects/{key}")
    walk.call("GET", f"{BUCKETS}/in/objects/{key}/download")
    walk.call("DELETE", f"{BUCKETS}/in/objects/{gone.json()['file']['key']}")
    walk.call("GET", f"{BUCKETS}/in/objects/nothing-here", status=404)
    return key


def _walk_console_batches(walk: Walk, object_key: str) -> None:
    body = {
        "endpoint": "/v1/chat/completions",
        "requests": _lines("hello", "[fault:400] refused"),
        "output_bucket_key": "out",
        "metadata": {"run": 1},
    }
    once = {"Idempotency-Key": "walk-1"}
    created = walk.call("POST", CONSOLE, body, status=201, headers=once).json()["id"]
    walk.call("POST", CONSOLE, body, status=201, headers=once)
    from_bucket = {"endpoint": "/v1/chat/completions", "input_file": {"bucket_key": "in", "object_key": object_key}}
    from_object = walk.call("POST", CONSOLE, from_bucket, status=201).json()["id"]
    bad = base64.b64encode(b'{"custom_id": "x"}\n{not json\n').decode()
    bad_key = walk.call("POST", f"{BUCKETS}/in/objects", {"fileName": "bad.jsonl", "data": bad}, status=201)
    bad_input = {"bucket_key": "in", "object_key": bad_key.json()["file"]["key"]}
    rejected = walk.call("POST", CONSOLE, {"endpoint": "/v1/chat/completions", "input_file": bad_input}, status=201)
    cancelled = walk.call("POST", CONSOLE, {"endpoint": "/v1/chat/completions", "requests": _lines("x")}, status=201)
    walk.call("POST", f"{CONSOLE}/{cancelled.json()['id']}/cancel")
    for batch_id in (created, from_object, rejected.json()["id"]):
        walk.console.wait(batch_id)
    walk.call("GET", CONSOLE)
    walk.call("GET", f"{CONSOLE}/{created}")
    walk.call("GET", f"{CONSOLE}/{rejected.json()['id']}")
    walk.call("GET", f"{CONSOLE}/{created}/items")
    walk.call("GET", f"{CONSOLE}/{created}/results")
    walk.call("GET", f"{BUCKETS}/out/objects")
    walk.call("POST", f"{CONSOLE}/{created}/cancel", status=400)
    walk.call("POST", f"{CONSOLE}/{created}/retry", status=201)
    walk.call("GET", f"{CONSOLE}/batch_unknown", status=404)
    invalid = {"endpoint": "/v1/chat/completions", "requests": [{"custom_id": "x", "body": {"model": 1}}]}
    walk.call("POST", CONSOLE, invalid, status=400)


def _walk_openai(walk: Walk) -> None:
    lines = input_file_lines("o", 2).replace(b'"1"', b'"[fault:400] 1"')
    uploaded = walk.call("POST", "/v1/files", form={"purpose": (None, b"batch"), "file": ("in.jsonl", lines)}).json()
    bad = walk.call("POST", "/v1/files", form={"purpose": (None, b"batch"), "file": ("bad.jsonl", b"{no\n")}).json()
    walk.call("GET", "/v1/files")
    walk.call("GET", f"/v1/files/{uploaded['id']}")
    walk.call("GET", f"/v1/files/{uploaded['id']}/content")
    create = {"input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions", "metadata": {"k": "v"}}
    batch = walk.call("POST", "/v1/batches", create).json()["id"]
    failed = walk.call("POST", "/v1/batches", {**create, "input_file_id": bad["id"]}).json()["id"]
    cancelled = walk.call("POST", "/v1/batches", create).json()["id"]
    walk.call("POST", f"/v1/batches/{cancelled}/cancel")
    walk.console.wait(batch)
    walk.console.wait(failed)
    walk.call("GET", "/v1/batches")
    finished = walk.call("GET", f"/v1/batches/{batch}").json()
    walk.call("GET", f"/v1/batches/{failed}")
    walk.call("GET", f"/v1/files/{finished['output_file_id']}/content")
    walk.call("GET", f"/v1/files/{finished['error_file_id']}/content")
    walk.call("DELETE", f"/v1/files/{bad['id']}")
    walk.call("GET", "/v1/files/file-unknown", status=404)


def _walk_uploads(walk: Walk) -> None:
    created = {"filename": "parts.jsonl", "purpose": "batch", "bytes": 20, "mime_type": "application/jsonl"}
    upload = walk.call("POST", "/v1/uploads", created).json()["id"]
    part = walk.call("POST", f"/v1/uploads/{upload}/parts", form={"data": ("blob", b"x" * 20)}).json()["id"]
    walk.call("POST", f"/v1/uploads/{upload}/complete", {"part_ids": [part]})
    other = walk.call("POST", "/v1/uploads", created).json()["id"]
    walk.call("POST", f"/v1/uploads/{other}/cancel")


def _walk_webhooks(walk: Walk, endpoint_id: str) -> None:
    webhooks = "/api/client/v1/webhooks"
    walk.call("GET", webhooks)
    walk.call("GET", f"{webhooks}/{endpoint_id}")
    walk.system.run_until(lambda: walk.call("GET", f"{webhooks}/{endpoint_id}/deliveries").json()["data"], timeout=30)
    walk.call("GET", f"{webhooks}/wh_unknown", status=404)
    walk.call("DELETE", f"{webhooks}/{endpoint_id}")


def _documents(answer: GatewayResponse) -> list[Any]:
    """The JSON an answer holds: its body, or each line of a JSONL body; any other body as one text."""
    text = answer.body.decode(errors="replace")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    try:
        return [json.loads(line) for line in text.splitlines() if line]
    except json.JSONDecodeError:
        return [text]


def _fields(document: Any, parent: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (parent key, key, value) at every depth; list items keep their list's key as parent."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield parent, key, value
            yield from _fields(value, key)
    elif isinstance(document, list):
        for value in document:
            yield from _fields(value, parent)


def _leaks(label: str, answer: GatewayResponse) -> Iterator[str]:
    for document in _documents(answer):
        if isinstance(document, str):
            yield from _leaked_text(label, "body", document)
        for parent, key, value in _fields(document):
            if key in INTERNAL_FIELDS and not (key == "object_key" and parent in CONSOLE_FILE_REFS):
                yield f"{label}: field {parent}.{key}"
            if isinstance(value, str) and key not in SIGNED_LINKS:
                yield from _leaked_text(label, key, value)


def _leaked_text(label: str, key: str, text: str) -> Iterator[str]:
    if TENANT in text:
        yield f"{label}: {key} names the tenant: {text[:120]!r}"
    if STORAGE_KEY.search(text):
        yield f"{label}: {key} holds a storage key: {text[:120]!r}"


def _api_routes(system: LocalSystem, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """Every route the api resolver serves (from its OpenAPI schema), each under one of the template's HttpApi
    routes, which are proxies: the resolver's list is the list of routes the template gives the API."""
    spec = system.stack.functions[system.stack.ref("ApiFunction")]
    monkeypatch.syspath_prepend(str(spec.code_uri))
    module_file = spec.code_uri / (spec.handler.rsplit(".", 1)[0] + ".py")
    loader = importlib.util.spec_from_file_location("api_under_test", module_file)
    assert loader and loader.loader
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    events = system.stack.template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    proxies = [event["Properties"]["Path"].removesuffix("{proxy+}") for event in events if event["Type"] == "HttpApi"]
    routes = set()
    for path, item in module.app.get_openapi_schema().paths.items():
        assert any(path.startswith(proxy) for proxy in proxies), path
        routes |= {
            (method.upper(), path) for method in ("get", "post", "put", "patch", "delete") if getattr(item, method)
        }
    return routes


def _reached(called: list[tuple[str, str]], routes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The routes the calls reached: each concrete path as the route template it fits (as called, if none)."""
    patterns = {route: re.compile(re.sub(r"\{\w+\}", "[^/]+", route[1]) + "$") for route in routes}
    fits = (
        next((r for r, p in patterns.items() if r[0] == method and p.match(path)), (method, path))
        for method, path in called
    )
    return set(fits)


def test_no_answer_of_any_route_shows_an_internal_field_a_storage_key_or_the_tenant(
    system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = Walk(system)

    with WebhookReceiver() as receiver:
        endpoint = walk.call("POST", "/api/client/v1/webhooks", {"url": receiver.url}, status=201).json()["id"]
        object_key = _walk_buckets(walk)
        _walk_console_batches(walk, object_key)
        _walk_openai(walk)
        _walk_uploads(walk)
        _walk_webhooks(walk, endpoint)

    routes = _api_routes(system, monkeypatch)
    assert _reached(walk.called, routes) == routes
    seen = {key for _, answer in walk.answers for document in _documents(answer) for _, key, _ in _fields(document)}
    assert {"request_counts", "errors", "output_file", "object_key", "usage", "response_body", "uploadUrl"} <= seen
    assert {"input_file_id", "output_file_id", "error_file_id", "file", "bucket", "buckets", "nextCursor"} <= seen
    assert {"secret", "event_id", "response_status", "deleted"} <= seen
    assert [leak for label, answer in walk.answers for leak in _leaks(label, answer)] == []
