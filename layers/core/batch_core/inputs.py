"""Reading batch inputs: planning work units over the input object and reading one unit's lines back."""

import json
from collections.abc import Iterator

from pydantic import ValidationError

from batch_core.dal import storage
from batch_core.errors import InvalidInput
from batch_core.models.batch import Batch
from batch_core.models.line import RequestLine
from batch_core.models.work_unit import WorkUnit
from batch_core.validation import LineValidator


def plan_units(batch: Batch, validator: LineValidator, unit_lines: int) -> Iterator[WorkUnit]:
    """Streams the input once, validating each line and cutting it into units of `unit_lines` lines.

    Blank lines are skipped; a unit's byte range covers its lines and any blank lines between them.
    """
    unit = WorkUnit(batch_id=batch.id, unit=0, first=0, count=0, byte_start=0, byte_end=0)
    offset = index = 0
    for number, raw in enumerate(storage.iter_object_lines(batch.input_key), start=1):
        start, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        validator.check(_parse(raw, number), number)
        if unit.count == 0:
            unit = unit.model_copy(update={"first": index, "byte_start": start})
        unit.count += 1
        unit.byte_end = offset
        index += 1
        if unit.count == unit_lines:
            yield unit
            unit = unit.model_copy(update={"unit": unit.unit + 1, "count": 0})
    validator.finish()
    if unit.count:
        yield unit


def _parse(raw: bytes, number: int) -> object:
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"line {number}: is not UTF-8 text", line=number) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"line {number}: is not valid JSON ({exc.msg})", line=number) from exc


def read_unit_lines(batch: Batch, unit: WorkUnit) -> list[tuple[int, RequestLine]]:
    """The unit's lines with their batch-wide indexes: one ranged GET of the input."""
    data = storage.get_range(batch.input_key, unit.byte_start, unit.byte_end)
    lines = [raw for raw in data.split(b"\n") if raw.strip()]
    try:
        parsed = [RequestLine.model_validate_json(raw) for raw in lines]
    except ValidationError as exc:
        raise InvalidInput(f"unit {unit.unit} of batch {batch.id} does not parse: {exc}") from exc
    return list(zip(unit.indexes, parsed, strict=True))
