"""The console surface over HTTP, with the standard library only; and OpenAI's uploads and batch create, which
carry a file too large for one request."""

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from batchapi.errors import ApiError, UsageError

CONSOLE = "/api/client/v1/batches"
UPLOADS = "/v1/uploads"


def create_body(endpoint: str, requests: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """The console's create body of inline requests; options left unset are left out."""
    return {"endpoint": endpoint, "requests": requests, **_set(options)}


def part_form(data: bytes) -> tuple[bytes, str]:
    """An upload part as the multipart form the parts route reads (its `data` field), and its content type."""
    boundary = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="part"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class BatchClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise UsageError(f"the API URL must be http(s)://…, not '{base_url}'")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", CONSOLE, body)

    def create_from_file(self, file_id: str, endpoint: str, **options: Any) -> dict[str, Any]:
        """A batch of an uploaded file, on the OpenAI surface: the console's create reads only bucket objects.
        It answers the batch in OpenAI's shape; the same id reads on the console."""
        return self._json("POST", "/v1/batches", {"input_file_id": file_id, "endpoint": endpoint, **_set(options)})

    def create_upload(self, filename: str, size: int) -> dict[str, Any]:
        body = {"filename": filename, "purpose": "batch", "bytes": size, "mime_type": "application/jsonl"}
        return self._json("POST", UPLOADS, body)

    def add_upload_part(self, upload_id: str, data: bytes) -> str:
        form, content_type = part_form(data)
        answer = self._call("POST", f"{UPLOADS}/{upload_id}/parts", data=form, content_type=content_type)
        return json.loads(answer)["id"]

    def complete_upload(self, upload_id: str, part_ids: list[str], md5: str) -> dict[str, Any]:
        return self._json("POST", f"{UPLOADS}/{upload_id}/complete", {"part_ids": part_ids, "md5": md5})

    def get(self, batch_id: str) -> dict[str, Any]:
        return self._json("GET", f"{CONSOLE}/{batch_id}")

    def list_batches(self, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return self._json("GET", CONSOLE, query={"status": status, "limit": limit})["data"]

    def items(
        self, batch_id: str, status: str | None = None, limit: int | None = None, skip: int | None = None
    ) -> list[dict[str, Any]]:
        return self._json("GET", f"{CONSOLE}/{batch_id}/items", query={"status": status, "limit": limit, "skip": skip})[
            "data"
        ]

    def retry(self, batch_id: str) -> dict[str, Any]:
        return self._json("POST", f"{CONSOLE}/{batch_id}/retry")

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._json("POST", f"{CONSOLE}/{batch_id}/cancel")

    def results(self, batch_id: str, status: str | None = None) -> bytes:
        """The raw JSONL; a large result arrives through the redirect the API answers with."""
        return self._call("GET", f"{CONSOLE}/{batch_id}/results", query={"status": status})

    def _json(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        return json.loads(self._call(method, path, query, data=data))

    def _call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        *,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> bytes:
        url = self.base_url + path
        pairs = _set(query or {})
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs)
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - the user's API URL
                return answer.read()
        except urllib.error.HTTPError as failure:
            raise ApiError(failure.code, _message(failure.read())) from failure
        except urllib.error.URLError as failure:
            raise ApiError(0, f"cannot reach {self.base_url}: {failure.reason}") from failure


def _set(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def _message(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:500]
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("message"))
        if isinstance(error, dict):
            return str(error.get("message"))
        if error is not None:
            return str(error)
    return str(parsed)[:500]
