"""The rules of a request line, in one place: prepare validates with them and the executor reads with them,
so a line that passes validation is a line that runs."""

import heapq
import json
from types import TracebackType
from typing import Any

from batch_core import strict_json
from batch_core.errors import InvalidInput, InvalidLines
from batch_core.flow.estimate import estimated_tokens
from batch_core.models.batch import Batch
from batch_core.models.bodies import body_problem
from batch_core.models.bounds import OPENAI_MAX_EMBEDDING_INPUTS, OPENAI_MAX_REQUESTS, echo
from batch_core.models.file import FileCheck
from batch_core.models.line import RequestLine
from batch_core.seen_ids import Duplicate, SeenIds
from batch_core.settings import Settings
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
    custom_id, body = checked_line(raw, number, endpoint)
    return RequestLine(custom_id=custom_id, url=endpoint, body=body)


def checked_line(raw: bytes, number: int | None, endpoint: str) -> tuple[str | None, dict[str, Any]]:
    """What read_line checks, giving the line's custom id and body: prepare keeps no line, and building each
    RequestLine was a tenth of its validation's work."""
    if len(raw) > MAX_LINE_BYTES:
        raise _rejection(number, None, f"is longer than {MAX_LINE_BYTES} bytes, the limit of one line")
    try:
        entry = strict_json.loads(raw, MAX_LINE_DEPTH)
    except JsonProblem as problem:
        # A line that does not read as JSON at all is OpenAI's invalid_json_line; a value inside it that this
        # service refuses (a lone surrogate, too deep, too long a number) names its field instead.
        field = render_path(problem.path) or None
        code = "invalid_input" if field else "invalid_json_line"
        raise _rejection(number, field, problem.problem, code) from problem
    if not isinstance(entry, dict):
        raise _rejection(number, None, "must be a JSON object", "invalid_json_line")
    if "body" not in entry:
        raise _rejection(number, "body", "is required: a line is {custom_id, method, url, body}")
    return _checked_entry(entry, number, endpoint)


def stored_line(entry: Any, number: int, endpoint: str) -> bytes:
    """An inline entry of a console create (`{custom_id?, body}`, or, with no `body` key, the body itself)
    as the line the batch stores, to be checked by the line rules as a line of a file is."""
    if not isinstance(entry, dict):
        raise _rejection(number, None, "must be a JSON object")
    if "body" not in entry:
        body = dict(entry)
        entry = {"custom_id": body.pop("custom_id", None), "body": body}
    return json.dumps({"custom_id": None, "method": "POST", "url": endpoint, **entry}, ensure_ascii=False).encode()


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


EMBEDDINGS = "/v1/embeddings"


def embedding_inputs(body: dict[str, Any]) -> int:
    """How many embeddings an embeddings request asks for: one per string or token array in its `input`."""
    given = body.get("input")
    if isinstance(given, list) and given and not all(isinstance(token, int) for token in given):
        return len(given)
    return 1


class LineValidator:
    """Validates the lines of one batch in order, collecting every rejection (each names its line and field).
    Used as a context manager, which holds the custom ids seen so far in a file."""

    def __init__(
        self,
        endpoint: str,
        max_lines: int,
        *,
        require_custom_id: bool = False,
        max_embedding_inputs: int | None = None,
    ):
        self.endpoint = endpoint
        self.max_lines = max_lines
        self.require_custom_id = require_custom_id
        self.max_embedding_inputs = max_embedding_inputs
        self.embedding_inputs = 0
        self.count = 0
        self.invalid = 0
        # The model of the first valid line: the batch's `model`.
        self.model: str | None = None
        # The valid lines' estimated tokens, which the batch holds of its tenant's quota.
        self.tokens = 0
        # The rejections listed: the first MAX_LISTED_ERRORS by line, as a heap whose top is the last of them.
        self._listed: list[tuple[int, int, InvalidInput]] = []

    def __enter__(self) -> "LineValidator":
        self._custom_ids = SeenIds()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._custom_ids.__exit__(kind, error, trace)

    def check_line(self, raw: bytes, number: int) -> bool:
        """A line of an input file; False when it is invalid (its rejection is kept for `finish`). A duplicate
        custom id is found up to a thousand lines later, by `finish` at the latest."""
        self._count(number)
        try:
            custom_id, body = checked_line(raw, number, self.endpoint)
            self._check_custom_id(custom_id, number)
        except InvalidInput as rejected:
            self._reject(rejected)
            return False
        self._accept(body, number)
        return True

    def check(self, entry: Any, number: int) -> bytes | None:
        """An inline entry as the line to store; None when it is invalid (the rejection is kept for `finish`, which
        also finds duplicate custom ids)."""
        try:
            raw = stored_line(entry, number, self.endpoint)
        except InvalidInput as rejected:
            self._count(number)
            return self._reject(rejected)
        return raw if self.check_line(raw, number) else None

    def admits(self, check: FileCheck) -> bool:
        """Whether the lines a file check proved valid are valid here too: the same endpoint, within these limits
        (the check requires custom ids, unique, whatever these rules say)."""
        return (
            check.endpoint == self.endpoint
            and check.lines <= self.max_lines
            and (self.max_embedding_inputs is None or check.embedding_inputs <= self.max_embedding_inputs)
        )

    def finish(self) -> int:
        """The number of lines; raises InvalidLines listing the rejections, or InvalidInput if there are none."""
        for duplicate in self._custom_ids.flush():
            self._reject_duplicate(duplicate)
        if self.invalid:
            listed = sorted(self._listed, key=lambda entry: (-entry[0], entry[1]))
            raise InvalidLines([problem for _, _, problem in listed], self.invalid)
        if self.count == 0:
            raise InvalidInput("the batch has no lines; it needs at least one", param="requests", code="empty_file")
        return self.count

    @classmethod
    def of(cls, batch: Batch, settings: Settings) -> "LineValidator":
        """The validator of a stored batch's lines: a batch made on /v1 keeps OpenAI's limits."""
        if not batch.openai_limits:
            return cls(batch.endpoint, settings.max_lines_per_batch, require_custom_id=batch.lines_from_file)
        return cls(
            batch.endpoint,
            min(settings.max_lines_per_batch, OPENAI_MAX_REQUESTS),
            require_custom_id=True,
            max_embedding_inputs=OPENAI_MAX_EMBEDDING_INPUTS,
        )

    def _accept(self, body: dict[str, Any], number: int) -> None:
        self.model = self.model or body["model"]
        self.tokens += estimated_tokens(body)
        if self.endpoint != EMBEDDINGS:
            return
        self.embedding_inputs += embedding_inputs(body)
        if self.max_embedding_inputs is not None and self.embedding_inputs > self.max_embedding_inputs:
            raise InvalidInput(
                f"the batch has more than {self.max_embedding_inputs:,} embedding inputs across its lines, "
                "OpenAI's limit for an embeddings batch",
                line=number,
                param="body.input",
                code="too_many_tasks",
            )

    def _count(self, number: int) -> None:
        self.count += 1
        if self.count > self.max_lines:
            raise InvalidInput(
                f"the batch has more than {self.max_lines:,} lines, the limit", line=number, code="too_many_tasks"
            )

    def _reject(self, rejected: InvalidInput) -> None:
        """Counts the rejection and keeps it if it is among the first MAX_LISTED_ERRORS by line: a duplicate id is
        found a little after its line, so rejections can come out of order."""
        self.invalid += 1
        entry = (-(rejected.line or 0), self.invalid, rejected)
        if len(self._listed) < MAX_LISTED_ERRORS:
            heapq.heappush(self._listed, entry)
        elif entry > self._listed[0]:
            heapq.heapreplace(self._listed, entry)

    def _reject_duplicate(self, duplicate: Duplicate) -> None:
        message = f"'{echo(duplicate.custom_id)}' duplicates line {duplicate.first_line}"
        self._reject(_rejection(duplicate.line, "custom_id", message, "duplicate_custom_id"))

    def _check_custom_id(self, custom_id: str | None, number: int) -> None:
        if custom_id is None and self.require_custom_id:
            raise _rejection(number, "custom_id", "is required in an input file")
        if custom_id is None:
            return
        for duplicate in self._custom_ids.add(custom_id, number):
            self._reject_duplicate(duplicate)


class CheckedLines:
    """The lines of an input its file check proved valid for the batch (LineValidator.admits), and counted: not read
    again. Stands for a LineValidator where plan_units cuts units."""

    def check_line(self, raw: bytes, number: int) -> bool:
        return True

    def finish(self) -> None:
        return None


def _checked_entry(entry: dict[str, Any], number: int | None, endpoint: str) -> tuple[str | None, dict[str, Any]]:
    unknown = next((key for key in entry if key not in LINE_KEYS), None)
    if unknown is not None:
        raise _rejection(number, render_path((unknown,)), f"is not a field of a line ({', '.join(LINE_KEYS)})")
    if entry.get("method", "POST") != "POST":
        raise _rejection(number, "method", "must be POST")
    if entry.get("url", endpoint) != endpoint:
        raise _rejection(number, "url", f"must be the batch's endpoint {endpoint}", "url_mismatch")
    custom_id = entry.get("custom_id")
    if custom_id is not None and (
        not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID_CHARS
    ):
        raise _rejection(number, "custom_id", f"must be a string of 1 to {MAX_CUSTOM_ID_CHARS} characters")
    body = entry["body"]
    if not isinstance(body, dict):
        raise _rejection(number, "body", "must be a JSON object")
    problem = body_problem(endpoint, body)
    if problem is not None:
        raise _rejection(number, render_path(("body", *problem[0])), problem[1])
    return custom_id, body


def _rejection(number: int | None, field: str | None, problem: str, code: str = "invalid_input") -> InvalidInput:
    subject = " ".join(part for part in (f"line {number}:" if number else "", field or "") if part)
    return InvalidInput(f"{subject} {problem}".strip(), line=number, param=field, code=code)
