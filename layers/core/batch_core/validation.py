"""Checks request lines one at a time, so inputs of any size validate as a stream."""

from typing import Any

from batch_core.errors import InvalidInput
from batch_core.models.line import RequestLine

MAX_CUSTOM_ID_CHARS = 512


class LineValidator:
    """Validates the lines of one batch in order; every rejection names the line (1-based) and the field."""

    def __init__(self, endpoint: str, max_lines: int, *, require_custom_id: bool = False):
        self.endpoint = endpoint
        self.max_lines = max_lines
        self.require_custom_id = require_custom_id
        self.count = 0
        self._custom_ids: dict[str, int] = {}

    def check(self, entry: Any, line: int) -> RequestLine:
        """An inline entry `{custom_id?, body}`, or a bare body, or a JSONL line `{custom_id, method, url, body}`."""
        self.count += 1
        if self.count > self.max_lines:
            raise InvalidInput(f"the batch has more than {self.max_lines} lines, the limit", line=line)
        if not isinstance(entry, dict):
            raise InvalidInput(f"line {line}: must be a JSON object", line=line)
        if "body" in entry:
            body, custom_id = entry["body"], entry.get("custom_id")
            self._check_route(entry, line)
        else:
            body = dict(entry)
            custom_id = body.pop("custom_id", None)
        self._check_custom_id(custom_id, line)
        self._check_body(body, line)
        return RequestLine(custom_id=custom_id, url=self.endpoint, body=body)

    def finish(self) -> int:
        if self.count == 0:
            raise InvalidInput("the batch has no lines; it needs at least one", param="requests")
        return self.count

    def _check_route(self, entry: dict[str, Any], line: int) -> None:
        if entry.get("method", "POST") != "POST":
            raise _field_error(line, "method", "must be POST")
        if entry.get("url", self.endpoint) != self.endpoint:
            raise _field_error(line, "url", f"must be the batch's endpoint {self.endpoint}")

    def _check_custom_id(self, custom_id: Any, line: int) -> None:
        if custom_id is None and self.require_custom_id:
            raise _field_error(line, "custom_id", "is required in an input file")
        if custom_id is None:
            return
        if not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID_CHARS:
            raise _field_error(line, "custom_id", f"must be a string of 1 to {MAX_CUSTOM_ID_CHARS} characters")
        if custom_id in self._custom_ids:
            raise _field_error(line, "custom_id", f"'{custom_id}' duplicates line {self._custom_ids[custom_id]}")
        self._custom_ids[custom_id] = line

    def _check_body(self, body: Any, line: int) -> None:
        if not isinstance(body, dict):
            raise _field_error(line, "body", "must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise _field_error(line, "body.model", "is required and must be a non-empty string")
        if body.get("stream") is True:
            raise _field_error(line, "body.stream", "must not be true: batch lines cannot stream")
        if self.endpoint == "/v1/chat/completions":
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise _field_error(line, "body.messages", "is required and must be a non-empty array")
            if not all(isinstance(message, dict) for message in messages):
                raise _field_error(line, "body.messages", "must hold only objects")
        else:
            embed_input = body.get("input")
            if not isinstance(embed_input, (str, list)) or not embed_input:
                raise _field_error(line, "body.input", "is required and must be a non-empty string or array")


def _field_error(line: int, field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"line {line}: {field} {problem}", line=line, param=field)
