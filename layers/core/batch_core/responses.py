"""Lambda's 6 MB response limit, counted as Lambda counts it: the JSON of the whole answer, after the body's
escaping and base64. An OpenAI list page is cut to fit (the SDK pages on); any other answer past the limit,
console lists included, goes to S3 behind a link."""

import json
import math
from typing import Any, TypeVar

from pydantic import BaseModel

from batch_core.dal.stores import Stores

# Lambda answers at most 6 MB (6,291,456 bytes); the rest is room for the status, headers and envelope.
RESPONSE_LIMIT_BYTES = 5_767_168
_ENVELOPE_BYTES = 64 * 1024
Item = TypeVar("Item", bound=BaseModel)


def fits(answer: dict[str, Any]) -> bool:
    """Lambda's runtime writes the answer with json.dumps, so each non-ASCII character costs its \\u escape."""
    return len(json.dumps(answer)) <= RESPONSE_LIMIT_BYTES


def base64_fits(size: int) -> bool:
    """Whether `size` bytes, sent base64-encoded as binary bodies are, fit a Lambda answer."""
    return 4 * math.ceil(size / 3) <= RESPONSE_LIMIT_BYTES


def spool(stores: Stores, tenant_id: str, body: bytes, content_type: str) -> str:
    """Stores an answer's body for a day (the spool's lifecycle rule) and returns a link that reads it."""
    key = stores.blobs.new_spool_key(tenant_id)
    stores.blobs.put(key, body, content_type)
    return stores.blobs.download_url(key)


def fit_page(items: list[Item]) -> tuple[list[Item], bool]:
    """The longest head of `items` whose JSON, escaped into the answer, fits it; True when some were left out."""
    size = 0
    for count, item in enumerate(items):
        size += len(json.dumps(json.dumps(item.model_dump(mode="json"), separators=(",", ":"))))
        if size > RESPONSE_LIMIT_BYTES - _ENVELOPE_BYTES:
            return items[: max(count, 1)], True
    return items, False
