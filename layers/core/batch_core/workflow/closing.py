"""Closing work units that will not run (cancelled or expired), against concurrent attempts."""

from batch_core.dal.stores import Stores
from batch_core.models.batch import Batch
from batch_core.models.status import UnitState, unit_sources
from batch_core.models.work_unit import UnitRecord
from batch_core.observability import logger

_CLOSE_TRIES = 5


def close_units(stores: Stores, batch: Batch, *, to: UnitState) -> int:
    """Moves every unit that may move to `to` there; returns how many moved."""
    closed = 0
    for unit in stores.units.list(batch.id):
        closed += close_unit(stores, unit, to=to)
    return closed


def close_unit(stores: Stores, unit: UnitRecord | None, *, to: UnitState) -> bool:
    """Retries while a concurrent attempt changes the unit under us; stops once it may no longer move to `to`."""
    for _ in range(_CLOSE_TRIES):
        if unit is None or unit.state not in unit_sources(to):
            return False
        if stores.units.close(unit, to=to):
            return True
        unit = stores.units.get(unit.batch_id, unit.unit)
    logger.warning("unit kept changing while closing", extra={"unit": unit.unit if unit else None})
    return False
