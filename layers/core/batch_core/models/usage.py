from collections.abc import Iterable
from typing import Self

from pydantic import BaseModel


class Usage(BaseModel):
    """Token usage, of one line or summed over a batch. `cached_tokens` are part of the input tokens (read from
    the upstream's prompt cache), `reasoning_tokens` part of the output tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def summed(cls, usages: Iterable["Usage"]) -> Self:
        total = cls()
        for usage in usages:
            total.input_tokens += usage.input_tokens
            total.output_tokens += usage.output_tokens
            total.cached_tokens += usage.cached_tokens
            total.reasoning_tokens += usage.reasoning_tokens
        total.total_tokens = total.input_tokens + total.output_tokens
        return total
