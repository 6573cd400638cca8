"""Per-line views of a batch, read from its work units and their output objects, always in input order."""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from batch_core.dal.stores import Stores
from batch_core.inputs import read_unit_lines
from batch_core.models.batch import Batch
from batch_core.models.item import Item, OutputLine, OutputResponse
from batch_core.models.line import LineError, LineResult, LineStatus, line_id
from batch_core.models.status import UnitState
from batch_core.models.work_unit import UnitRecord

_READ_AHEAD_UNITS = 8
UNRUN_ERRORS = {
    "cancelled": LineError(code="batch_cancelled", message="The batch was cancelled before this request ran."),
    "expired": LineError(
        code="batch_expired", message="This request could not be executed before the completion window expired."
    ),
}
# The status of a line that has no result yet, from its unit's state.
_UNRUN_STATUS: dict[UnitState, LineStatus] = {
    UnitState.PENDING: "pending",
    UnitState.RUNNING: "running",
    UnitState.CANCELLED: "cancelled",
    UnitState.EXPIRED: "expired",
}


@dataclass
class LineView:
    index: int
    custom_id: str | None
    status: LineStatus
    result: LineResult | None


def iter_lines(
    stores: Stores,
    batch: Batch,
    *,
    first_unit: int = 0,
    last_unit: int | None = None,
    units: Callable[[UnitRecord], bool] | None = None,
) -> Iterator[LineView]:
    """Every line of the chosen units; a unit's output objects are read once, its input only for unrun lines."""
    chosen = (
        unit
        for unit in stores.units.list(batch.id, first_unit=first_unit, last_unit=last_unit)
        if units is None or units(unit)
    )
    for unit, parts in _with_parts(stores, chosen):
        yield from _unit_lines(stores, batch, unit, parts)


def _with_parts(stores: Stores, units: Iterable[UnitRecord]) -> Iterator[tuple[UnitRecord, list[bytes]]]:
    """Each unit with its output objects, read a few units ahead in parallel: one GET at a time would
    make a large batch's reading wait on S3 once per unit. Memory stays at the read-ahead's objects."""
    with ThreadPoolExecutor(max_workers=_READ_AHEAD_UNITS) as pool:
        ahead: deque[tuple[UnitRecord, list[Future[bytes]]]] = deque()
        try:
            for unit in units:
                ahead.append((unit, [pool.submit(stores.blobs.get, key) for key in unit.parts]))
                if len(ahead) > _READ_AHEAD_UNITS:
                    yield _read(ahead.popleft())
            while ahead:
                yield _read(ahead.popleft())
        finally:
            for _, parts in ahead:
                for part in parts:
                    part.cancel()


def _read(entry: tuple[UnitRecord, list[Future[bytes]]]) -> tuple[UnitRecord, list[bytes]]:
    unit, parts = entry
    return unit, [part.result() for part in parts]


def _unit_lines(stores: Stores, batch: Batch, unit: UnitRecord, parts: list[bytes]) -> Iterator[LineView]:
    results: dict[int, LineResult] = {}
    for data in parts:
        for raw in data.splitlines():
            result = LineResult.model_validate_json(raw)
            results[result.index] = result
    custom_ids: dict[int, str | None] | None = None
    for index in unit.indexes:
        if index in results:
            result = results[index]
            yield LineView(index, result.custom_id, result.status, result)
            continue
        if custom_ids is None:
            custom_ids = {line.index: line.custom_id for line in read_unit_lines(stores, batch, unit, skip=results)}
        yield LineView(index, custom_ids[index], _UNRUN_STATUS.get(unit.state, "pending"), None)


def list_items(stores: Stores, batch: Batch, *, status: str | None, limit: int, skip: int) -> list[Item]:
    limit, skip = max(1, min(limit, 1000)), max(0, skip)
    if not batch.units:
        return []
    if status is None:
        first_unit, last_unit = skip // batch.unit_lines, (skip + limit - 1) // batch.unit_lines
        chosen = iter_lines(stores, batch, first_unit=first_unit, last_unit=last_unit)
        views = (view for view in chosen if view.index >= skip)
        return [to_item(batch, view) for view in islice(views, limit)]
    matching = (view for view in iter_lines(stores, batch, units=_may_hold(status)) if view.status == status)
    return [to_item(batch, view) for view in islice(matching, skip, skip + limit)]


def _may_hold(status: str) -> Callable[[UnitRecord], bool]:
    """Skips units that cannot hold a line in `status`, so filtering does not read every output object."""
    if status == "succeeded":
        return lambda unit: unit.n_succeeded > 0
    if status == "failed":
        return lambda unit: unit.n_failed > 0
    states = {state for state, unrun in _UNRUN_STATUS.items() if unrun == status}
    return lambda unit: unit.state in states


def iter_finished_lines(stores: Stores, batch: Batch, status: str | None = None) -> Iterator[LineView]:
    """The lines that ran (succeeded or failed), optionally one of the two, in input order."""
    wanted = {status} if status else {"succeeded", "failed"}
    ran = _may_hold(status) if status else (lambda unit: unit.n_succeeded + unit.n_failed > 0)
    return (view for view in iter_lines(stores, batch, units=ran) if view.status in wanted)


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
