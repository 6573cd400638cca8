"""A line's tokens, estimated before it is sent, as OpenAI counts them against a tokens-per-minute limit: the
prompt (about four characters a token) and the most the answer may hold."""

import json
import math
from typing import Any

from batch_core.models.usage import Usage

_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4
_DEFAULT_COMPLETION_TOKENS = 256
# One encoder for every line: json.dumps with options builds a new one per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def estimated_tokens(body: dict[str, Any]) -> int:
    """Chat, completions and responses also count the most their answer may hold; embeddings and moderations
    only their input."""
    if "messages" in body:
        messages = body.get("messages") or []
        prompt = sum(_tokens(message) + _TOKENS_PER_MESSAGE for message in messages)
    elif "prompt" in body and "input" not in body:
        prompt = _tokens(body.get("prompt"))
    else:
        return _tokens(body.get("input")) + (_answer_tokens(body) if "max_output_tokens" in body else 0)
    return prompt + _answer_tokens(body)


def counted_tokens(body: dict[str, Any], usage: Usage) -> int:
    """What the upstream counted against its limit for an answered line: the prompt it read, and the most the
    answer was allowed (`max_tokens`) when the request set it, else what the answer used."""
    if _most_answer_tokens(body):
        return usage.input_tokens + _answer_tokens(body)
    return usage.input_tokens + usage.output_tokens


def _most_answer_tokens(body: dict[str, Any]) -> Any:
    return body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens")


def _answer_tokens(body: dict[str, Any]) -> int:
    return int(_most_answer_tokens(body) or _DEFAULT_COMPLETION_TOKENS) * int(body.get("n") or 1)


def _tokens(part: Any) -> int:
    text = part if isinstance(part, str) else _COMPACT.encode(part)
    return max(1, math.ceil(len(text) / _CHARS_PER_TOKEN))
