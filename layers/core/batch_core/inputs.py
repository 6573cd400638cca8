"""Reading batch inputs: planning work units over the input object and reading one unit's lines back.

Both read a line with validation.read_line, so the executor runs exactly what prepare accepted.
"""

from collections.abc import Collection, Iterator
from itertools import chain
from typing import NamedTuple

from batch_core.dal.storage import BlobStore
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput
from batch_core.models.batch import Batch
from batch_core.models.line import RequestLine
from batch_core.models.work_unit import WorkUnit
from batch_core.validation import (
    MAX_LINE_BYTES,
    UTF8_BOM,
    CheckedLines,
    LineValidator,
    read_line,
    recover_custom_id,
)


class UnitLine(NamedTuple):
    """A line of a work unit as the executor reads it: its request, or why it cannot be read."""

    index: int
    custom_id: str | None
    request: RequestLine | None
    problem: str | None = None


def plan_units(
    stores: Stores, batch: Batch, validator: LineValidator | CheckedLines, unit_lines: int
) -> Iterator[WorkUnit]:
    """Streams the input once, validating each line (unless its file check did) and cutting it into units of
    `unit_lines` lines.

    Blank lines are skipped; a unit's byte range covers its lines and any blank lines between them.
    """
    unit, index, count, byte_start, byte_end = 0, 0, 0, 0, 0

    def cut() -> WorkUnit:
        return WorkUnit(
            batch_id=batch.id,
            tenant_id=batch.tenant_id,
            unit=unit,
            first=index - count,
            count=count,
            byte_start=byte_start,
            byte_end=byte_end,
        )

    for number, (start, end, raw) in enumerate(input_lines(stores.blobs, batch.input_key), start=1):
        if not raw.strip():
            continue
        validator.check_line(raw.removesuffix(b"\n"), number)
        if count == 0:
            byte_start = start
        count, byte_end, index = count + 1, end, index + 1
        if count == unit_lines:
            yield cut()
            unit, count = unit + 1, 0
    validator.finish()
    if count:
        yield cut()


def input_lines(blobs: BlobStore, key: str) -> Iterator[tuple[int, int, bytes]]:
    """Each line's byte range and bytes (line ending included), read as a stream.

    A UTF-8 BOM opening the object is not part of line 1, so no unit's range holds it. A line over
    MAX_LINE_BYTES comes cut to MAX_LINE_BYTES + 1 bytes: enough to reject it, without holding it whole.
    """
    start, head, size = 0, bytearray(), 0
    chunks = blobs.chunks(key)
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= len(UTF8_BOM):
            break
    if first.startswith(UTF8_BOM):
        first, start = first[len(UTF8_BOM) :], len(UTF8_BOM)
    for chunk in chain((first,), chunks):
        position = 0
        while position < len(chunk):
            newline = chunk.find(b"\n", position)
            stop = len(chunk) if newline < 0 else newline + 1
            head += chunk[position : min(stop, position + MAX_LINE_BYTES + 1 - len(head))]
            size += stop - position
            position = stop
            if newline >= 0:
                yield start, start + size, bytes(head)
                start, head, size = start + size, bytearray(), 0
    if size:
        yield start, start + size, bytes(head)


def read_custom_ids(stores: Stores, batch: Batch, unit: WorkUnit, skip: Collection[int] = ()) -> dict[int, str | None]:
    """The custom ids of the unit's lines but those in `skip`: all an output names of a line that did not run, read
    without checking the line again (prepare did)."""
    data = stores.blobs.get_range(batch.input_key, unit.byte_start, unit.byte_end)
    raws = [raw for raw in data.split(b"\n") if raw.strip()]
    return {index: recover_custom_id(raw) for index, raw in zip(unit.indexes, raws, strict=False) if index not in skip}


def read_unit_lines(stores: Stores, batch: Batch, unit: WorkUnit, skip: Collection[int] = ()) -> list[UnitLine]:
    """The unit's lines with their batch-wide indexes, but for those in `skip` (lines that already ran):
    one ranged GET of the input, and only the lines wanted are read.

    A line that no longer reads (its bytes changed since prepare) comes with its problem, so it alone fails.
    """
    data = stores.blobs.get_range(batch.input_key, unit.byte_start, unit.byte_end)
    raws = [raw for raw in data.split(b"\n") if raw.strip()]
    lines = []
    for index, raw in zip(unit.indexes, raws + [None] * (unit.count - len(raws)), strict=False):
        if index in skip:
            continue
        if raw is None:
            lines.append(UnitLine(index, None, None, "the line is no longer in the input"))
            continue
        try:
            request = read_line(raw, None, batch.endpoint)
        except InvalidInput as unreadable:
            lines.append(UnitLine(index, recover_custom_id(raw), None, f"the line no longer reads: {unreadable}"))
            continue
        lines.append(UnitLine(index, request.custom_id, request))
    return lines
