"""Bounds on what a client sends: each string and map has a size, so a request past it is a 400 before any write."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

MAX_NAME_CHARS = 255
MAX_ID_CHARS = 64
MAX_ECHO_CHARS = 40
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 512
MAX_OBJECT_METADATA_CHARS = 8192
# OpenAI's limits on a batch's input file, which /v1 keeps: its size, its requests, and for embeddings the
# inputs of all its lines together.
OPENAI_MAX_INPUT_BYTES = 200 * 1024 * 1024
OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_EMBEDDING_INPUTS = 50_000

Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Identifier = Annotated[str, Field(max_length=MAX_ID_CHARS)]


def echo(text: str) -> str:
    """A client's value as an error message quotes it: short, so a huge value does not make a huge answer."""
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "…"


def json_chars(value: Any) -> int:
    return len(_compact_json(value))


def as_text(value: Any) -> str:
    """A metadata value as OpenAI's string-only metadata shows it: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else _compact_json(value)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_keys(metadata: dict[str, Any], max_keys: int) -> None:
    if len(metadata) > max_keys:
        raise ValueError(f"metadata may hold at most {max_keys} keys")
    for key in metadata:
        if len(key) > MAX_METADATA_KEY_CHARS:
            raise ValueError(f"metadata key '{echo(key)}' is longer than {MAX_METADATA_KEY_CHARS} characters")


def _batch_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's rule: 16 keys, keys up to 64 characters, values up to 512 characters. The console's values may
    be any JSON; a value that is not a string counts as its JSON, the text the OpenAI surface shows for it."""
    _check_keys(metadata, MAX_METADATA_KEYS)
    for key, item in metadata.items():
        if len(as_text(item)) > MAX_METADATA_VALUE_CHARS:
            raise ValueError(f"metadata value of '{echo(key)}' is longer than {MAX_METADATA_VALUE_CHARS} characters")
    return metadata


def _object_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A bucket object's metadata: 32 keys of up to 64 characters, 8 KB of JSON in all."""
    _check_keys(metadata, 32)
    if json_chars(metadata) > MAX_OBJECT_METADATA_CHARS:
        raise ValueError(f"metadata is longer than {MAX_OBJECT_METADATA_CHARS} characters as JSON")
    return metadata


OpenAIMetadata = Annotated[dict[str, str], AfterValidator(_batch_metadata)]
ConsoleMetadata = Annotated[dict[str, Any], AfterValidator(_batch_metadata)]
ObjectMetadata = Annotated[dict[str, Any], AfterValidator(_object_metadata)]
