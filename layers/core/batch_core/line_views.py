"""Per-line views of a batch, merged from its work units' states, the outputs their attempts stored and (for lines
that did not run) its input, always in input order."""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from batch_core.dal.stores import Stores
from batch_core.inputs import read_custom_ids
from batch_core.models.assembly import BLOCK_STATUSES
from batch_core.models.batch import Batch
from batch_core.models.line import LineStatus, OutputHeader
from batch_core.models.work_unit import UnitRecord
from batch_core.output_lines import StoredOutput, read_outputs, unrun_line

_READ_AHEAD_UNITS = 8


@dataclass
class LineView:
    """A line: its status, the line as the output or error file holds it, and, if it ran, its stored header."""

    index: int
    status: LineStatus
    line: bytes
    header: OutputHeader | None = None


def iter_lines(
    stores: Stores,
    batch: Batch,
    *,
    first_unit: int = 0,
    last_unit: int | None = None,
    units: Callable[[UnitRecord], bool] | None = None,
) -> Iterator[LineView]:
    """Every line of the chosen units; a unit's outputs are read once, its input only for lines that did not run."""
    for _, lines in iter_units(stores, batch, first_unit=first_unit, last_unit=last_unit, units=units):
        yield from lines


def iter_units(
    stores: Stores,
    batch: Batch,
    *,
    first_unit: int = 0,
    last_unit: int | None = None,
    units: Callable[[UnitRecord], bool] | None = None,
) -> Iterator[tuple[UnitRecord, Iterator[LineView]]]:
    """The chosen units in order, each with its lines, as `iter_lines` reads them."""
    chosen = (
        unit
        for unit in stores.units.list(batch.id, first_unit=first_unit, last_unit=last_unit)
        if units is None or units(unit)
    )
    for unit, outputs in _with_outputs(stores, chosen):
        yield unit, unit_lines(stores, batch, unit, outputs)


def unit_lines(stores: Stores, batch: Batch, unit: UnitRecord, outputs: list[bytes]) -> Iterator[LineView]:
    """The unit's lines in input order, from its attempts' `outputs` and, for the lines that did not run, its input."""
    ran: dict[int, StoredOutput] = {stored.header.index: stored for data in outputs for stored in read_outputs(data)}
    custom_ids: dict[int, str | None] | None = None
    for index in unit.indexes:
        stored = ran.get(index)
        if stored is not None:
            yield LineView(index, stored.header.status, stored.line, stored.header)
            continue
        if custom_ids is None:
            custom_ids = read_custom_ids(stores, batch, unit, skip=ran)
        status = unit.unrun_status
        yield LineView(index, status, unrun_line(batch, index, custom_ids.get(index), status))


def lines_in(stores: Stores, batch: Batch, status: str, skip: int = 0, limit: int | None = None) -> Iterator[LineView]:
    """The lines in `status`, in input order, from the `skip`-th on (`limit` of them at most). Blocks' and units'
    counters pass over the lines before it, so a page deep into a large batch reads only the units it shows."""
    span = _units_holding(stores, batch, status, skip, limit)
    if span is None:
        return iter(())
    first_unit, skip, last_unit = span
    chosen = iter_lines(
        stores, batch, first_unit=first_unit, last_unit=last_unit, units=lambda unit: unit.lines_in(status) > 0
    )
    return islice((view for view in chosen if view.status == status), skip, None if limit is None else skip + limit)


def iter_finished_lines(stores: Stores, batch: Batch, status: str | None = None) -> Iterator[LineView]:
    """The lines that ran (succeeded or failed), optionally one of the two, in input order."""
    if status:
        return lines_in(stores, batch, status)
    ran = iter_lines(stores, batch, units=lambda unit: unit.n_succeeded + unit.n_failed > 0)
    return (view for view in ran if view.status in ("succeeded", "failed"))


def _units_holding(
    stores: Stores, batch: Batch, status: str, skip: int, limit: int | None
) -> tuple[int, int, int | None] | None:
    """Where the lines in `status` from the `skip`-th (`limit` of them) lie: the first unit holding one, how many of
    its lines in `status` come before, and the last unit that may hold one (None: up to the batch's end). None when
    there are not that many. Lines that ended are counted per block, so only the blocks holding the page are read;
    lines still to run, per unit."""
    first_unit, last_unit = 0, None
    if status in BLOCK_STATUSES:
        blocks = (block for block in stores.assembly.blocks(batch.id) if block.lines(status))
        for block in blocks:
            if skip < block.lines(status):
                break
            skip -= block.lines(status)
        else:
            return None
        first_unit, last = block.block * batch.block_units, block
        wanted = skip + limit - block.lines(status) if limit is not None else 0
        while wanted > 0 and (following := next(blocks, None)) is not None:
            last, wanted = following, wanted - following.lines(status)
        if limit is not None:
            last_unit = (last.block + 1) * batch.block_units - 1
    for unit in stores.units.list(batch.id, first_unit=first_unit, last_unit=last_unit):
        if skip < unit.lines_in(status):
            return unit.unit, skip, last_unit
        skip -= unit.lines_in(status)
    return None


def _with_outputs(stores: Stores, units: Iterable[UnitRecord]) -> Iterator[tuple[UnitRecord, list[bytes]]]:
    """Each unit with its attempts' outputs, read a few units ahead in parallel: one GET at a time would make a
    large batch's reading wait on S3 once per unit. Memory stays at the read-ahead's objects."""
    with ThreadPoolExecutor(max_workers=_READ_AHEAD_UNITS) as pool:
        ahead: deque[tuple[UnitRecord, list[Future[bytes]]]] = deque()
        try:
            for unit in units:
                ahead.append((unit, [pool.submit(stores.blobs.get, key) for key in unit.outputs]))
                if len(ahead) > _READ_AHEAD_UNITS:
                    yield _read(ahead.popleft())
            while ahead:
                yield _read(ahead.popleft())
        finally:
            for _, outputs in ahead:
                for output in outputs:
                    output.cancel()


def _read(entry: tuple[UnitRecord, list[Future[bytes]]]) -> tuple[UnitRecord, list[bytes]]:
    unit, outputs = entry
    return unit, [output.result() for output in outputs]
