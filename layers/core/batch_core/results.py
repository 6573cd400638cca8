"""The results route's document: inline while it fits a Lambda response, else spooled to S3 and linked."""

from collections.abc import Iterator
from dataclasses import dataclass

from batch_core.dal.stores import Stores
from batch_core.line_views import iter_finished_lines
from batch_core.models.batch import Batch
from batch_core.responses import RESPONSE_LIMIT_BYTES

# Escaping only grows the text, so a longer document cannot fit a Lambda answer and streams to S3 at once;
# a shorter one is answered inline, and the API handler links it instead if its escaped answer is too large.
INLINE_LIMIT_BYTES = RESPONSE_LIMIT_BYTES


@dataclass
class Results:
    body: bytes = b""
    url: str | None = None


def render_results(stores: Stores, batch: Batch, status: str | None) -> Results:
    """Streams finished lines in input order; past the inline limit the rest streams into one object."""
    lines = (view.line for view in iter_finished_lines(stores, batch, status))
    head: list[bytes] = []
    size = 0
    for line in lines:
        head.append(line)
        size += len(line)
        if size > INLINE_LIMIT_BYTES:
            return Results(url=_spool(stores, batch, status, head, lines))
    return Results(body=b"".join(head))


def _spool(stores: Stores, batch: Batch, status: str | None, head: list[bytes], rest: Iterator[bytes]) -> str:
    with stores.blobs.writer(stores.blobs.results_key(batch.tenant_id, batch.id, status)) as writer:
        for line in head:
            writer.write(line)
        for line in rest:
            writer.write(line)
    return stores.blobs.download_url(writer.key)
