"""Per-line views of a batch, merged from its work units' states, their output objects and (for lines that did not
run) its input, always in input order."""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from batch_core.dal.stores import Stores
from batch_core.inputs import read_unit_lines
from batch_core.models.batch import Batch
from batch_core.models.line import LineResult, LineStatus
from batch_core.models.status import UnitState
from batch_core.models.work_unit import UnitRecord

_READ_AHEAD_UNITS = 8
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


def lines_in(stores: Stores, batch: Batch, status: str) -> Iterator[LineView]:
    """The lines in `status`, in input order."""
    return (view for view in iter_lines(stores, batch, units=_may_hold(status)) if view.status == status)


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
    if status:
        return lines_in(stores, batch, status)
    ran = (view for view in iter_lines(stores, batch, units=lambda unit: unit.n_succeeded + unit.n_failed > 0))
    return (view for view in ran if view.status in ("succeeded", "failed"))
