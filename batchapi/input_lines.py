"""The user's JSONL file, read line by line as the service reads it: as console requests, or as OpenAI batch
input lines to upload."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from batchapi.errors import UsageError

UTF8_BOM = b"\xef\xbb\xbf"
LINE_KEYS = {"custom_id", "method", "url", "body"}
NO_ENDPOINT = "no endpoint: pass --endpoint or give each line a 'url'"


def entries(path: Path) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """Each non-blank line's number, bytes (without its line end) and object; a line that is not one is named."""
    try:
        with path.open("rb") as source:
            for number, raw in enumerate(source, start=1):
                # A file saved with a byte order mark, or with CRLF line ends, reads as the service reads it.
                line = (raw.removeprefix(UTF8_BOM) if number == 1 else raw).rstrip(b"\r\n")
                if line.strip():
                    yield number, line, _entry(path, number, line)
    except OSError as problem:
        raise UsageError(f"cannot read {path}: {problem}") from problem


def read_requests(path: Path, endpoint: str | None) -> tuple[str, list[dict[str, Any]]]:
    """OpenAI batch input lines ({custom_id, method, url, body}) to the console's requests."""
    requests: list[dict[str, Any]] = []
    for _, _, entry in entries(path):
        endpoint = endpoint or entry.get("url")
        requests.append({"custom_id": entry.get("custom_id"), "body": entry.get("body", entry)})
    if not endpoint:
        raise UsageError(NO_ENDPOINT)
    return endpoint, requests


def find_endpoint(path: Path, endpoint: str | None) -> str:
    """The endpoint read_requests would find (the one given, else the first line's url), reading no further."""
    found = endpoint or next((entry["url"] for _, _, entry in entries(path) if entry.get("url")), None)
    if not found:
        raise UsageError(NO_ENDPOINT)
    return found


def openai_lines(path: Path, endpoint: str) -> Iterator[bytes]:
    """The file as OpenAI batch input lines for `endpoint`, one at a time. A line that already is one goes as
    written; any other is rewritten the way the console's inline create reads it (a bare body, another url or
    method, keys a line does not have), with `line-<number>` for a missing custom_id, which a file's line needs."""
    for number, raw, entry in entries(path):
        if _is_input_line(entry, endpoint):
            yield raw + b"\n"
            continue
        body = entry["body"] if "body" in entry else {key: value for key, value in entry.items() if key != "custom_id"}
        custom_id = entry.get("custom_id")
        line = {
            "custom_id": f"line-{number}" if custom_id is None else custom_id,
            "method": "POST",
            "url": endpoint,
            "body": body,
        }
        yield json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _is_input_line(entry: dict[str, Any], endpoint: str) -> bool:
    return (
        entry.keys() <= LINE_KEYS
        and "body" in entry
        and entry.get("custom_id") is not None
        and entry.get("method") == "POST"
        and entry.get("url") == endpoint
    )


def _entry(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        entry = json.loads(line.decode("utf-8"))
    except ValueError as problem:
        raise UsageError(f"{path} line {number}: not valid JSON ({problem})") from problem
    if not isinstance(entry, dict):
        raise UsageError(f"{path} line {number}: must be a JSON object")
    return entry
