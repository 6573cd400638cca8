"""The console surface over HTTP, with the standard library only."""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from batchapi.errors import ApiError, UsageError

CONSOLE = "/api/client/v1/batches"


class BatchClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise UsageError(f"the API URL must be http(s)://…, not '{base_url}'")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def create(self, endpoint: str, requests: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        body = {"endpoint": endpoint, "requests": requests, **{k: v for k, v in options.items() if v is not None}}
        return self._json("POST", CONSOLE, body)

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
        return json.loads(self._call(method, path, body, query))

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> bytes:
        url = self.base_url + path
        pairs = {key: value for key, value in (query or {}).items() if value is not None}
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - the user's API URL
                return answer.read()
        except urllib.error.HTTPError as failure:
            raise ApiError(failure.code, _message(failure.read())) from failure
        except urllib.error.URLError as failure:
            raise ApiError(0, f"cannot reach {self.base_url}: {failure.reason}") from failure


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
