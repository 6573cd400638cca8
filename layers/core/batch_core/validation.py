"""The rules of a request line, in one place: prepare validates with them and the executor reads with them,
so a line that passes validation is a line that runs."""

import json
from typing import Any

from pydantic import ValidationError

from batch_core import strict_json
from batch_core.errors import InvalidInput, InvalidLines
from batch_core.models.bodies import BODIES
from batch_core.models.line import RequestLine
from batch_core.strict_json import JsonProblem, render_path

MAX_CUSTOM_ID_CHARS = 512
MAX_LINE_BYTES = 1024 * 1024
MAX_LINE_DEPTH = 64
MAX_LISTED_ERRORS = 100
UTF8_BOM = b"\xef\xbb\xbf"
LINE_KEYS = ("custom_id", "method", "url", "body")


def read_line(raw: bytes, number: int | None, endpoint: str) -> RequestLine:
    """A line of an input file (or of a stored input) `{custom_id, method?, url?, body}`.

    Raises InvalidInput naming the line (when `number` is given) and the field.
    """
    if len(raw) > MAX_LINE_BYTES:
        raise _rejection(number, None, f"is longer than {MAX_LINE_BYTES} bytes, the limit of one line")
    try:
        entry = strict_json.loads(raw, MAX_LINE_DEPTH)
    except JsonProblem as problem:
        raise _rejection(number, render_path(problem.path) or None, problem.problem) from problem
    if not isinstance(entry, dict):
        raise _rejection(number, None, "must be a JSON object")
    if "body" not in entry:
        raise _rejection(number, "body", "is required: a line is {custom_id, method, url, body}")
    return _request_line(entry, number, endpoint)


def stored_line(entry: Any, number: int, endpoint: str) -> tuple[bytes, RequestLine]:
    """An inline entry of a console create (`{custom_id?, body}`, or, with no `body` key, the body itself)
    as the line the batch stores. It is checked by reading it back with read_line, as the executor will."""
    if not isinstance(entry, dict):
        raise _rejection(number, None, "must be a JSON object")
    if "body" not in entry:
        body = dict(entry)
        entry = {"custom_id": body.pop("custom_id", None), "body": body}
    raw = json.dumps({"method": "POST", "url": endpoint, **entry}, ensure_ascii=False).encode()
    return raw, read_line(raw, number, endpoint)


def read_request_body(text: str) -> Any:
    """Any JSON request body, read by the line rules; a fault inside a create's `requests` names its line."""
    try:
        return strict_json.loads(text, MAX_LINE_DEPTH)
    except JsonProblem as problem:
        path = problem.path
        if len(path) < 2 or path[0] != "requests" or not isinstance(path[1], int):
            where = render_path(path) or "the request body"
            raise InvalidInput(f"{where} {problem.problem}", param=render_path(path) or None) from problem
        number, field = path[1] + 1, path[2:]
        entry = problem.value["requests"][path[1]]
        if not (isinstance(entry, dict) and "body" in entry) and field[:1] != ("custom_id",):
            field = ("body", *field)
        raise InvalidLines([_rejection(number, render_path(field), problem.problem)], 1) from problem


def recover_custom_id(raw: bytes) -> str | None:
    """The custom_id of a line that no longer reads, when it can still be found, so its failure names it."""
    try:
        entry = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
    if not isinstance(custom_id, str) or len(custom_id) > MAX_CUSTOM_ID_CHARS:
        return None
    return custom_id.encode("utf-8", "replace").decode()


class LineValidator:
    """Validates the lines of one batch in order, collecting every rejection (each names its line and field)."""

    def __init__(self, endpoint: str, max_lines: int, *, require_custom_id: bool = False):
        self.endpoint = endpoint
        self.max_lines = max_lines
        self.require_custom_id = require_custom_id
        self.count = 0
        self.invalid = 0
        self.errors: list[InvalidInput] = []
        self._custom_ids: dict[str, int] = {}

    def check_line(self, raw: bytes, number: int) -> RequestLine | None:
        """A line of an input file; None when it is invalid (the rejection is kept for `finish`)."""
        self._count(number)
        try:
            line = read_line(raw, number, self.endpoint)
            self._check_custom_id(line.custom_id, number)
        except InvalidInput as rejected:
            return self._reject(rejected)
        return line

    def check(self, entry: Any, number: int) -> bytes | None:
        """An inline entry as the line to store; None when it is invalid (the rejection is kept for `finish`)."""
        self._count(number)
        try:
            raw, line = stored_line(entry, number, self.endpoint)
            self._check_custom_id(line.custom_id, number)
        except InvalidInput as rejected:
            return self._reject(rejected)
        return raw

    def finish(self) -> int:
        """The number of lines; raises InvalidLines listing the rejections, or InvalidInput if there are none."""
        if self.invalid:
            raise InvalidLines(self.errors, self.invalid)
        if self.count == 0:
            raise InvalidInput("the batch has no lines; it needs at least one", param="requests")
        return self.count

    def _count(self, number: int) -> None:
        self.count += 1
        if self.count > self.max_lines:
            raise InvalidInput(f"the batch has more than {self.max_lines} lines, the limit", line=number)

    def _reject(self, rejected: InvalidInput) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(rejected)

    def _check_custom_id(self, custom_id: str | None, number: int) -> None:
        if custom_id is None and self.require_custom_id:
            raise _rejection(number, "custom_id", "is required in an input file")
        if custom_id is None:
            return
        if custom_id in self._custom_ids:
            raise _rejection(number, "custom_id", f"'{custom_id}' duplicates line {self._custom_ids[custom_id]}")
        self._custom_ids[custom_id] = number


def _request_line(entry: dict[str, Any], number: int | None, endpoint: str) -> RequestLine:
    unknown = next((key for key in entry if key not in LINE_KEYS), None)
    if unknown is not None:
        raise _rejection(number, render_path((unknown,)), f"is not a field of a line ({', '.join(LINE_KEYS)})")
    if entry.get("method", "POST") != "POST":
        raise _rejection(number, "method", "must be POST")
    if entry.get("url", endpoint) != endpoint:
        raise _rejection(number, "url", f"must be the batch's endpoint {endpoint}")
    custom_id = entry.get("custom_id")
    if custom_id is not None and (
        not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID_CHARS
    ):
        raise _rejection(number, "custom_id", f"must be a string of 1 to {MAX_CUSTOM_ID_CHARS} characters")
    body = entry["body"]
    if not isinstance(body, dict):
        raise _rejection(number, "body", "must be a JSON object")
    _check_body(body, number, endpoint)
    return RequestLine(custom_id=custom_id, url=endpoint, body=body)


def _check_body(body: dict[str, Any], number: int | None, endpoint: str) -> None:
    try:
        BODIES[endpoint].model_validate(body)
    except ValidationError as invalid:
        field, problem = _first_problem(invalid, body, endpoint)
        raise _rejection(number, render_path(("body", *field)), problem) from invalid


# A problem on these fields keeps the message it always had, whatever pydantic calls it.
_FIXED_PROBLEMS = {
    ("model",): "is required and must be a non-empty string",
    ("messages",): "is required and must be a non-empty array",
    ("input",): "is required and must be a non-empty string or array",
}
_TYPE_PROBLEMS = {
    "missing": "is required",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
}


def _first_problem(invalid: ValidationError, body: dict[str, Any], endpoint: str) -> tuple[tuple[Any, ...], str]:
    """The first field at fault and what is wrong with it; a union's alternatives join into one problem."""
    errors = invalid.errors()
    field = _field_of(errors[0], body)
    if errors[0]["type"] == "extra_forbidden":
        return field, f"is not a parameter of {endpoint}"
    if field in _FIXED_PROBLEMS:
        return field, _FIXED_PROBLEMS[field]
    if field[:1] == ("messages",) and len(field) == 2:
        return ("messages",), "must hold only objects"
    problems = list(dict.fromkeys(_problem(error) for error in errors if _field_of(error, body) == field))
    if all(problem.startswith("must be ") for problem in problems):
        return field, "must be " + " or ".join(problem.removeprefix("must be ") for problem in problems)
    return field, problems[0]


def _field_of(error: Any, body: Any) -> tuple[Any, ...]:
    """The part of pydantic's location that is a path in the body (it also names union alternatives)."""
    field: list[Any] = []
    value = body
    for part in error["loc"]:
        if _holds(value, part):
            value = value[part]
        elif error["type"] in ("missing", "extra_forbidden") and part == error["loc"][-1]:
            value = None
        else:
            break
        field.append(part)
    return tuple(field)


def _holds(value: Any, part: Any) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)


def _problem(error: Any) -> str:
    if error["type"] in _TYPE_PROBLEMS:
        return _TYPE_PROBLEMS[error["type"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be")


def _rejection(number: int | None, field: str | None, problem: str) -> InvalidInput:
    subject = " ".join(part for part in (f"line {number}:" if number else "", field or "") if part)
    return InvalidInput(f"{subject} {problem}".strip(), line=number, param=field)
