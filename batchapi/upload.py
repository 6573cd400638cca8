"""A file larger than one API request goes through the Uploads API in parts, streamed, never whole in memory."""

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from batchapi.client import BatchClient

# Lambda takes a request event of at most 6 MB; API Gateway's 10 MB body limit is the looser one. The event
# holds a JSON body as a JSON string, escaped, beside its headers and request context, which get the room kept.
LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024
EVENT_ROOM_BYTES = 64 * 1024
INLINE_MAX_BYTES = LAMBDA_MAX_EVENT_BYTES - EVENT_ROOM_BYTES
# A part is multipart form data, which reaches Lambda base64-encoded (4/3 larger): 4 MiB of it is 5.3 MB, inside
# INLINE_MAX_BYTES. The service's 10,000 parts an upload then hold 40 GB, more than its 8 GB upload limit.
PART_BYTES = 4 * 1024 * 1024


def fits_inline(body: Any) -> bool:
    """Whether a JSON request body fits in one Lambda event, measured as the event holds it."""
    return len(json.dumps(json.dumps(body))) <= INLINE_MAX_BYTES


def parts(lines: Iterable[bytes], size: int = PART_BYTES) -> Iterator[bytes]:
    """The stream cut into parts of exactly `size` bytes, the last one shorter. A line may straddle two parts:
    the service joins them byte for byte."""
    pending = bytearray()
    for line in lines:
        pending += line
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def upload_lines(
    client: BatchClient, filename: str, lines: Callable[[], Iterable[bytes]], part_bytes: int = PART_BYTES
) -> str:
    """Uploads the stream `lines()` makes and returns its file id. The stream is read twice, once to declare its
    size and md5 and once to send it; the md5 makes the service refuse a file that changed in between."""
    size, md5 = _measure(lines())
    upload = client.create_upload(filename, size)
    print(f"uploading {filename}: {size:,} bytes in {-(-size // part_bytes)} parts", file=sys.stderr)
    part_ids = [client.add_upload_part(upload["id"], part) for part in parts(lines(), part_bytes)]
    return client.complete_upload(upload["id"], part_ids, md5)["file"]["id"]


def _measure(lines: Iterable[bytes]) -> tuple[int, str]:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    for line in lines:
        digest.update(line)
        size += len(line)
    return size, digest.hexdigest()
