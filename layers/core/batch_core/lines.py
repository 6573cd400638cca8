"""Per-line views of a batch, read from its work units and their output objects, always in input order."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from batch_core.dal import storage
from batch_core.dal.units_db import list_units_in_db
from batch_core.inputs import read_unit_lines
from batch_core.models.batch import Batch
from batch_core.models.item import Item, OutputLine, OutputResponse
from batch_core.models.line import LineError, LineResult, LineStatus, line_id
from batch_core.models.work_unit import UnitRecord

UNRUN_ERRORS = {
    "cancelled": LineError(code="batch_cancelled", message="The batch was cancelled before this request ran."),
    "expired": LineError(
        code="batch_expired", message="This request could not be executed before the completion window expired."
    ),
}
_UNRUN_STATUS: dict[str, LineStatus] = {
    "pending": "pending",
    "running": "running",
    "cancelled": "cancelled",
    "expired": "expired",
}


@dataclass
class LineView:
    index: int
    custom_id: str | None
    status: LineStatus
    result: LineResult | None


def iter_lines(
    batch: Batch,
    *,
    first_unit: int = 0,
    last_unit: int | None = None,
    units: Callable[[UnitRecord], bool] | None = None,
) -> Iterator[LineView]:
    """Every line of the chosen units; a unit's output objects are read once, its input only for unrun lines."""
    for unit in list_units_in_db(batch.id, first_unit=first_unit, last_unit=last_unit):
        if units is None or units(unit):
            yield from _unit_lines(batch, unit)


def _unit_lines(batch: Batch, unit: UnitRecord) -> Iterator[LineView]:
    results: dict[int, LineResult] = {}
    for key in unit.parts:
        for raw in storage.get_object(key).splitlines():
            result = LineResult.model_validate_json(raw)
            results[result.index] = result
    custom_ids: dict[int, str | None] | None = None
    for index in unit.indexes:
        if index in results:
            result = results[index]
            yield LineView(index, result.custom_id, result.status, result)
            continue
        if custom_ids is None:
            custom_ids = {i: line.custom_id for i, line in read_unit_lines(batch, unit)}
        yield LineView(index, custom_ids[index], _UNRUN_STATUS.get(unit.state, "pending"), None)


def list_items(batch: Batch, *, status: str | None, limit: int, skip: int) -> list[Item]:
    limit, skip = max(1, min(limit, 1000)), max(0, skip)
    if not batch.units:
        return []
    if status is None:
        first_unit, last_unit = skip // batch.unit_lines, (skip + limit - 1) // batch.unit_lines
        views = (view for view in iter_lines(batch, first_unit=first_unit, last_unit=last_unit) if view.index >= skip)
        return [to_item(batch, view) for view in islice(views, limit)]
    matching = (view for view in iter_lines(batch, units=_may_hold(status)) if view.status == status)
    return [to_item(batch, view) for view in islice(matching, skip, skip + limit)]


def _may_hold(status: str) -> Callable[[UnitRecord], bool]:
    """Skips units that cannot hold a line in `status`, so filtering does not read every output object."""
    tests: dict[str, Callable[[UnitRecord], bool]] = {
        "succeeded": lambda unit: unit.n_succeeded > 0,
        "failed": lambda unit: unit.n_failed > 0,
        "pending": lambda unit: unit.state == "pending",
        "running": lambda unit: unit.state == "running",
        "cancelled": lambda unit: unit.state == "cancelled",
        "expired": lambda unit: unit.state == "expired",
    }
    return tests.get(status, lambda unit: False)


def iter_finished_lines(batch: Batch, status: str | None = None) -> Iterator[LineView]:
    """The lines that ran (succeeded or failed), optionally one of the two, in input order."""
    wanted = {status} if status else {"succeeded", "failed"}
    ran = _may_hold(status) if status else (lambda unit: unit.n_succeeded + unit.n_failed > 0)
    return (view for view in iter_lines(batch, units=ran) if view.status in wanted)


def to_item(batch: Batch, view: LineView) -> Item:
    result = view.result
    error = result.error if result else UNRUN_ERRORS.get(view.status)
    return Item(
        id=line_id(batch.id, view.index),
        index=view.index,
        custom_id=view.custom_id,
        status=view.status,
        response_status_code=result.status_code if result else None,
        response_body=result.body if result else None,
        error_message=error.message if error else None,
        usage=result.usage if result else None,
        started_at=result.started_at if result else None,
        ended_at=result.ended_at if result else None,
    )


def to_output_line(batch: Batch, view: LineView) -> OutputLine:
    result = view.result
    response = None
    if result and result.status_code is not None:
        response = OutputResponse(status_code=result.status_code, request_id=result.request_id, body=result.body)
    return OutputLine(
        id=line_id(batch.id, view.index),
        custom_id=view.custom_id,
        response=response,
        error=result.error if result else UNRUN_ERRORS.get(view.status),
    )
