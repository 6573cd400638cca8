"""Work unit records in memory: a unit's change and its batch's counters happen together or not at all."""

import time
from collections import Counter
from collections.abc import Iterator, Sequence

from batch_core.models.assembly import BlockChange
from batch_core.models.status import CLOSED_UNIT_COUNTERS, LINE_COUNTERS, UnitState, unit_sources
from batch_core.models.work_unit import AttemptRecord, UnitRecord, WorkUnit
from tests.unit.fakes.assembly import FakeAssemblyStore
from tests.unit.fakes.batches import FakeBatchStore


class FakeUnitStore:
    """Same methods and answers as UnitStore. It shares its batch store's lock, as a DynamoDB transaction
    spans the unit's, its batch's and its block's records: a failed condition changes none."""

    def __init__(self, batches: FakeBatchStore, assembly: FakeAssemblyStore):
        self.records: dict[tuple[str, int], UnitRecord] = {}
        self.ttls: dict[tuple[str, int], int] = {}
        self._batches = batches
        self._assembly = assembly
        self._lock = batches.lock

    def put_all(self, units: Sequence[WorkUnit], ttl: int) -> None:
        with self._lock:
            for unit in units:
                self.records[unit.batch_id, unit.unit] = UnitRecord(
                    **unit.model_dump(include=set(WorkUnit.model_fields))
                )
                self.ttls[unit.batch_id, unit.unit] = ttl

    def put_missing(self, units: Sequence[WorkUnit], ttl: int) -> None:
        with self._lock:
            self.put_all([unit for unit in units if (unit.batch_id, unit.unit) not in self.records], ttl)

    def get(self, batch_id: str, unit: int) -> UnitRecord | None:
        with self._lock:
            found = self.records.get((batch_id, unit))
            return found.model_copy(deep=True) if found else None

    def list(self, batch_id: str, *, first_unit: int = 0, last_unit: int | None = None) -> Iterator[UnitRecord]:
        with self._lock:
            numbers = sorted(number for batch, number in self.records if batch == batch_id)
        for number in numbers:
            found = self.get(batch_id, number)
            if found is not None and first_unit <= number and (last_unit is None or number <= last_unit):
                yield found

    def claim(
        self, batch_id: str, unit: int, *, now: int, lease_seconds: int, force: bool = False, holder: str | None = None
    ) -> UnitRecord | None:
        with self._lock:
            found = self.records.get((batch_id, unit))
            if found is None or found.state not in unit_sources(UnitState.RUNNING):
                return None
            if not force and found.state == UnitState.RUNNING and found.lease_until >= now:
                return None
            changes = {"state": UnitState.RUNNING, "lease_until": now + lease_seconds, "holder": holder}
            return self._save(found, **changes, attempt=found.attempt + 1)

    def record_attempt(self, unit: UnitRecord, record: AttemptRecord) -> bool:
        finished = record.finished
        done = len(set(unit.finished) | set(finished)) == unit.count
        next_state = UnitState.DONE if done else UnitState.PENDING
        outcomes = Counter(finished.values())
        with self._lock:
            found = self.records.get((unit.batch_id, unit.unit))
            if found is None or found.state not in unit_sources(next_state) or found.attempt != unit.attempt:
                return False
            changes: dict[str, object] = {
                "state": next_state,
                "lease_until": 0,
                "outputs": [*found.outputs, record.outputs_key] if record.outputs_key else found.outputs,
                "n_succeeded": found.n_succeeded + outcomes["succeeded"],
                "n_failed": found.n_failed + outcomes["failed"],
                "waiting": record.waiting,
            }
            if done:
                # A done unit drops its per-line bookkeeping, as the real store does.
                changes.update(finished=set(), retries={})
            else:
                changes.update(finished=found.finished | set(finished), retries=record.retries)
            self._save(found, **changes)
            deltas = {LINE_COUNTERS[status]: count for status, count in outcomes.items()}
            deltas.update(input_tokens=record.usage.input_tokens, output_tokens=record.usage.output_tokens)
            deltas.update(lines_waiting=record.waiting - unit.waiting)
            since = int(time.time()) if record.waiting else None
            self._add_counts(unit.batch_id, {name: delta for name, delta in deltas.items() if delta}, since)
            self._assembly.add(unit.batch_id, record.block)
            return True

    def close(self, units: Sequence[UnitRecord], *, to: UnitState, blocks: Sequence[BlockChange]) -> bool:
        with self._lock:
            found = [self.records.get((unit.batch_id, unit.unit)) for unit in units]
            for unit, stored in zip(units, found, strict=True):
                if stored is None or stored.attempt != unit.attempt or stored.state not in unit_sources(to):
                    return False
            for stored in found:
                assert stored is not None
                self._save(stored, state=to, attempt=stored.attempt + 1, waiting=0)
            deltas = {
                CLOSED_UNIT_COUNTERS[to]: sum(len(unit.unfinished) for unit in units),
                "lines_waiting": -sum(unit.waiting for unit in units),
            }
            self._add_counts(units[0].batch_id, {name: delta for name, delta in deltas.items() if delta})
            for block in blocks:
                self._assembly.add(units[0].batch_id, block)
            return True

    def _save(self, found: UnitRecord, **changes: object) -> UnitRecord:
        saved = UnitRecord.model_validate({**found.model_dump(), **changes})
        self.records[found.batch_id, found.unit] = saved
        return saved.model_copy(deep=True)

    def _add_counts(self, batch_id: str, deltas: dict[str, int], waiting_since: int | None = None) -> None:
        if deltas and self._batches.get(batch_id) is not None:
            self._batches.add_counts(batch_id, deltas, waiting_since)
