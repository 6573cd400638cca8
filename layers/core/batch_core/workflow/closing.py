"""Closing work units that will not run (cancelled or expired), against concurrent attempts."""

from collections import defaultdict
from collections.abc import Sequence

from batch_core.dal.stores import Stores
from batch_core.models.assembly import BlockChange
from batch_core.models.batch import Batch
from batch_core.models.status import CLOSED_UNIT_COUNTERS, UnitState, unit_sources
from batch_core.models.work_unit import UnitRecord
from batch_core.observability import logger
from batch_core.parallel import in_groups
from batch_core.settings import Settings

_CLOSE_TRIES = 5
# Units closed in one transaction: with their blocks and their batch's counters, within DynamoDB's 100 items.
_UNITS_PER_CLOSE = 40
# About what a line that did not run takes in the error file; only deciding when blocks make a part reads it.
UNRUN_LINE_BYTES = 200


def close_units(stores: Stores, settings: Settings, batch: Batch, *, to: UnitState) -> int:
    """Moves every unit that may move to `to` there, forty to a write (a million-line batch's units close in a few
    hundred writes); a group that met a concurrent attempt closes one unit at a time. Returns how many moved."""
    closed = 0
    closable = (unit for unit in stores.units.list(batch.id) if unit.state in unit_sources(to))
    for group in in_groups(closable, _UNITS_PER_CLOSE):
        if stores.units.close(group, to=to, blocks=_block_changes(settings, batch, group, to)):
            closed += len(group)
            continue
        closed += sum(
            close_unit(stores, settings, batch, stores.units.get(batch.id, unit.unit), to=to) for unit in group
        )
    return closed


def close_unit(stores: Stores, settings: Settings, batch: Batch, unit: UnitRecord | None, *, to: UnitState) -> bool:
    """Retries while a concurrent attempt changes the unit under us; stops once it may no longer move to `to`."""
    for _ in range(_CLOSE_TRIES):
        if unit is None or unit.state not in unit_sources(to):
            return False
        if stores.units.close([unit], to=to, blocks=_block_changes(settings, batch, [unit], to)):
            return True
        unit = stores.units.get(unit.batch_id, unit.unit)
    logger.warning("unit kept changing while closing", extra={"unit": unit.unit if unit else None})
    return False


def _block_changes(settings: Settings, batch: Batch, units: Sequence[UnitRecord], to: UnitState) -> list[BlockChange]:
    """What closing the units adds to their blocks: their unfinished lines in the state they close to."""
    unrun: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        unrun[batch.block_of(unit.unit)].append(len(unit.unfinished))
    return [
        BlockChange(
            block=block,
            ttl=settings.batch_ttl(batch.expires_at),
            lines={CLOSED_UNIT_COUNTERS[to]: sum(counts)},
            units_ended=len(counts),
            error_bytes=sum(counts) * UNRUN_LINE_BYTES,
        )
        for block, counts in unrun.items()
    ]
