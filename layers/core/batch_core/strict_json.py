"""The one JSON reader for client documents: what it accepts, every later step can store, send and serialize.

Python's json module alone accepts more than the rest of the system can carry: lone surrogates (pydantic
cannot serialize them), NaN and numbers too large for a float (not JSON once re-sent), integers too long
for Python to convert, and nesting deep enough to exhaust recursion. Each is reported with the path to
the value, so the caller can name the line and the field.
"""

import json
import math
import re
import threading
from typing import Any

from batch_core.errors import BatchError

MAX_INT_DIGITS = 4300
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PATH_KEY_CHARS = 40
_PATH_PARTS = 8
_seen = threading.local()  # whether the current parse met a number it cannot carry

Path = tuple[str | int, ...]


class JsonProblem(BatchError):
    """A document that is not JSON the system can carry; `path` leads to the value when one is to blame."""

    def __init__(self, problem: str, path: Path = (), value: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.path = path
        self.value = value


class _Unfit:
    """Stands in for a number the document cannot carry, so the walk can report where it was."""

    def __init__(self, problem: str):
        self.problem = problem


def loads(data: bytes | str, max_depth: int) -> Any:
    """The parsed document; raises JsonProblem for bytes that are not UTF-8, text that is not JSON, or values
    the system cannot carry (see the module's doc)."""
    text = _text(data)
    brackets = data.count(b"{") + data.count(b"[") if isinstance(data, bytes) else text.count("{") + text.count("[")
    _seen.unfit = False
    value = _decode(text)
    if _seen.unfit or brackets > max_depth or _SURROGATE_ESCAPE.search(text):
        found = find_problem(value, max_depth)
        if found is not None:
            raise JsonProblem(found[0], found[1], value)
    return value


def render_path(path: Path) -> str:
    """`body.messages.0.content`, with long keys and long paths cut, so a hundred listed problems stay
    small enough for the workflow's payload and the batch record."""
    parts = [str(part) if len(str(part)) <= _PATH_KEY_CHARS else f"{str(part)[:_PATH_KEY_CHARS]}…" for part in path]
    return ".".join(parts[:_PATH_PARTS]) + (".…" if len(parts) > _PATH_PARTS else "")


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonProblem(f"is not UTF-8 text (byte {exc.start + 1})") from exc


def _unfit(problem: str) -> _Unfit:
    _seen.unfit = True
    return _Unfit(problem)


def _constant(name: str) -> _Unfit:
    return _unfit(f"is {name}, which JSON does not allow")


def _finite(literal: str) -> float | _Unfit:
    number = float(literal)
    return number if math.isfinite(number) else _unfit("is a number too large to represent")


def _bounded(literal: str) -> int | _Unfit:
    if len(literal.lstrip("-")) <= MAX_INT_DIGITS:
        return int(literal)
    return _unfit(f"is a number too long to parse (over {MAX_INT_DIGITS} digits)")


# Built once: a decoder per call would cost more than the parse of a typical line.
_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite)
_COUNTING_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite, parse_int=_bounded)


def _decode(text: str) -> Any:
    try:
        try:
            return _DECODER.decode(text)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # Only an integer over Python's digit limit gets here; read again, slower, to find where it is.
            return _COUNTING_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"is not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise JsonProblem("nests too deeply to parse") from exc


def find_problem(value: Any, max_depth: int) -> tuple[str, Path] | None:
    """The first value (in document order) the system cannot carry, with its path; walks without recursion."""
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Unfit):
            return item.problem, path
        if isinstance(item, str) and _has_lone_surrogate(item):
            return f"holds a lone surrogate ({_first_surrogate(item)})", path
        if isinstance(item, (dict, list)) and len(path) >= max_depth:
            return f"nests deeper than {max_depth} levels", _leading(path)
        if isinstance(item, dict):
            for key in item:
                if _has_lone_surrogate(key):
                    return f"has a key holding a lone surrogate ({_first_surrogate(key)})", path
            stack.extend(reversed([(child, (*path, key)) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(child, (*path, number)) for number, child in enumerate(item)]))
    return None


def _leading(path: Path) -> Path:
    """Where a too-deep value starts, without the run of indexes that makes it deep."""
    leading = path[:3]
    while leading and isinstance(leading[-1], int):
        leading = leading[:-1]
    return leading


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _first_surrogate(text: str) -> str:
    return next(f"\\u{ord(char):04x}" for char in text if "\ud800" <= char <= "\udfff")
