"""Closing work units that will not run (cancelled or expired), against concurrent attempts."""

from batch_core.dal.stores import Stores
from batch_core.models.assembly import BlockChange
from batch_core.models.batch import Batch
from batch_core.models.status import CLOSED_UNIT_COUNTERS, UnitState, unit_sources
from batch_core.models.work_unit import UnitRecord
from batch_core.observability import logger
from batch_core.settings import Settings

_CLOSE_TRIES = 5
# About what a line that did not run takes in the error file; only deciding when blocks make a part reads it.
UNRUN_LINE_BYTES = 200


def close_units(stores: Stores, settings: Settings, batch: Batch, *, to: UnitState) -> int:
    """Moves every unit that may move to `to` there; returns how many moved."""
    closed = 0
    for unit in stores.units.list(batch.id):
        closed += close_unit(stores, settings, batch, unit, to=to)
    return closed


def close_unit(stores: Stores, settings: Settings, batch: Batch, unit: UnitRecord | None, *, to: UnitState) -> bool:
    """Retries while a concurrent attempt changes the unit under us; stops once it may no longer move to `to`."""
    for _ in range(_CLOSE_TRIES):
        if unit is None or unit.state not in unit_sources(to):
            return False
        unrun = len(unit.unfinished)
        block = BlockChange(
            block=batch.block_of(unit.unit),
            ttl=settings.batch_ttl(batch.expires_at),
            lines={CLOSED_UNIT_COUNTERS[to]: unrun},
            unit_ended=True,
            error_bytes=unrun * UNRUN_LINE_BYTES,
        )
        if stores.units.close(unit, to=to, block=block):
            return True
        unit = stores.units.get(unit.batch_id, unit.unit)
    logger.warning("unit kept changing while closing", extra={"unit": unit.unit if unit else None})
    return False
