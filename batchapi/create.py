"""How `submit` creates a batch of a file: inline when its create request fits in one API request, else through
the Uploads API."""

from pathlib import Path
from typing import Any

from batchapi.client import BatchClient, create_body
from batchapi.errors import UsageError
from batchapi.input_lines import find_endpoint, openai_lines, read_requests
from batchapi.upload import INLINE_MAX_BYTES, fits_inline, upload_lines


def create_batch(
    client: BatchClient, path: Path, endpoint: str | None, options: dict[str, Any], *, upload: bool = False
) -> dict[str, Any]:
    """The batch as the console shows it, however it was sent. A file larger than the limit is uploaded without
    being read into memory: its inline request, only each line's method and url shorter, would seldom fit."""
    if not upload and _size(path) <= INLINE_MAX_BYTES:
        found, requests = read_requests(path, endpoint)
        body = create_body(found, requests, **options)
        if fits_inline(body):
            return client.create(body)
    endpoint = find_endpoint(path, endpoint)
    file_id = upload_lines(client, path.name, lambda: openai_lines(path, endpoint))
    return client.get(client.create_from_file(file_id, endpoint, **options)["id"])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as problem:
        raise UsageError(f"cannot read {path}: {problem}") from problem
