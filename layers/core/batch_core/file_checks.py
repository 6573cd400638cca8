"""Checking an uploaded input when it lands, with the line rules prepare uses, so a batch made from it later starts
its lines without reading them first (prepare.py)."""

import json
from itertools import chain

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput
from batch_core.inputs import input_lines
from batch_core.models.bodies import BODIES
from batch_core.models.file import FileCheck
from batch_core.observability import logger
from batch_core.settings import Settings
from batch_core.validation import LineValidator


def check_file(stores: Stores, settings: Settings, file_id: str) -> None:
    """Checks the file's lines as input-file lines for the endpoint its first line names; the file is then
    "processed" with what the check found, or "error" naming its bad lines as a batch would. A file whose first
    line names no endpoint is "processed" unchecked: a batch made from it checks its lines. Safe to run again."""
    stored = stores.files.get(file_id)
    head = stores.blobs.head(stored.object_key) if stored and stored.status == "uploaded" else None
    if stored is None or head is None:
        return
    lines = input_lines(stores.blobs, stored.object_key)
    numbered = ((number, raw.removesuffix(b"\n")) for number, (_, _, raw) in enumerate(lines, 1) if raw.strip())
    first = next(numbered, None)
    endpoint = _named_endpoint(first[1]) if first else None
    if first is None or endpoint is None:
        stores.files.checked(file_id, "processed")
        return
    try:
        with LineValidator(endpoint, settings.max_lines_per_batch, require_custom_id=True) as validator:
            for number, raw in chain((first,), numbered):
                validator.check_line(raw, number)
            validator.finish()
    except InvalidInput as invalid:
        stores.files.checked(file_id, "error", details=invalid.message)
        logger.info("file check failed", extra={"file_id": file_id, "problem": invalid.message})
        return
    check = FileCheck(
        etag=head.etag,
        endpoint=endpoint,
        lines=validator.count,
        tokens=validator.tokens,
        model=validator.model,
        embedding_inputs=validator.embedding_inputs,
    )
    stores.files.checked(file_id, "processed", check=check)
    logger.info("file checked", extra={"file_id": file_id, "lines": validator.count, "endpoint": endpoint})


def _named_endpoint(raw: bytes) -> str | None:
    """The endpoint a line's `url` names, when the line reads as JSON and the endpoint is one this service runs."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    url = entry.get("url") if isinstance(entry, dict) else None
    return url if isinstance(url, str) and url in BODIES else None
