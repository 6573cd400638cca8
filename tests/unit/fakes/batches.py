"""Batch records in memory, with the conditions the DynamoDB store writes under."""

import threading
from collections.abc import Collection
from typing import Any

from batch_core.dal.batches_db import TOKEN_COUNTERS
from batch_core.errors import InvalidTransition, StorageError
from batch_core.models.batch import Batch
from batch_core.models.status import PREPARABLE, BatchStatus, batch_sources


class FakeBatchStore:
    """Same methods and answers as BatchStore; one lock stands in for DynamoDB's conditional writes.

    BatchStore.counters_update builds a DynamoDB transaction item for the unit store's writes; its stand-in
    here is `add_counts`, which the fake unit store calls under the same lock."""

    def __init__(self) -> None:
        self.records: dict[str, Batch] = {}
        self.finishers: set[str] = set()
        self.lock = threading.RLock()

    def put_new(self, batch: Batch) -> None:
        with self.lock:
            if batch.id in self.records:
                raise StorageError(f"could not store batch {batch.id}")
            self.records[batch.id] = batch.model_copy(deep=True)

    def get(self, batch_id: str, *, consistent: bool = False) -> Batch | None:
        with self.lock:
            found = self.records.get(batch_id)
            return found.model_copy(deep=True) if found else None

    def list(self, tenant_id: str, *, status: str | None = None, limit: int, before: str | None = None) -> list[Batch]:
        with self.lock:
            found = sorted(
                (batch for batch in self.records.values() if batch.tenant_id == tenant_id),
                key=lambda batch: batch.id,
                reverse=True,
            )
        found = [batch for batch in found if (before is None or batch.id < before) and status in (None, batch.status)]
        return [batch.model_copy(deep=True) for batch in found[:limit]]

    def transition(self, batch_id: str, *, to: BatchStatus, changes: dict[str, Any] | None = None) -> Batch:
        return self._update(batch_id, batch_sources(to), {"status": to, **(changes or {})})

    def update(self, batch_id: str, *, while_in: Collection[BatchStatus], changes: dict[str, Any]) -> Batch:
        if "status" in changes:
            raise ValueError("a status changes through transition(), which the status table governs")
        return self._update(batch_id, while_in, changes)

    def plan(self, batch_id: str, *, total: int, units: int, unit_lines: int, block_units: int) -> Batch:
        changes = {"n_total": total, "units": units, "unit_lines": unit_lines, "block_units": block_units}
        return self._update(batch_id, PREPARABLE, changes)

    def end_wait(self, batch_id: str) -> bool:
        with self.lock:
            found = self.records.get(batch_id)
            if found is None or found.lines_waiting:
                return False
            self.records[batch_id] = found.model_copy(update={"waiting_since": None})
            return True

    def claim_finisher(self, batch_id: str) -> bool:
        with self.lock:
            if batch_id not in self.records or batch_id in self.finishers:
                return False
            self.finishers.add(batch_id)
            return True

    def add_counts(self, batch_id: str, deltas: dict[str, int], waiting_since: int | None = None) -> None:
        """What BatchStore.counters_update adds inside a unit's transaction: line counters, token totals and
        lines waiting for capacity."""
        with self.lock:
            data = self.records[batch_id].model_dump()
            for name, delta in deltas.items():
                if name in TOKEN_COUNTERS:
                    data["usage"][name] += delta
                    if name in ("input_tokens", "output_tokens"):
                        data["usage"]["total_tokens"] += delta
                elif name == "lines_waiting":
                    data["lines_waiting"] += delta
                else:
                    data["request_counts"][name] += delta
            if waiting_since is not None and data["waiting_since"] is None:
                data["waiting_since"] = waiting_since
            self.records[batch_id] = Batch.model_validate(data)

    def _update(self, batch_id: str, expected: Collection[BatchStatus], changes: dict[str, Any]) -> Batch:
        with self.lock:
            found = self.records.get(batch_id)
            if found is None or found.status not in expected:
                raise InvalidTransition(f"batch {batch_id} is not {' or '.join(sorted(expected))}")
            data = found.model_dump()
            for name, value in changes.items():
                if name.startswith("n_"):
                    data["request_counts"][name.removeprefix("n_")] = value
                else:
                    data[name] = value
            self.records[batch_id] = Batch.model_validate(data)
            return self.records[batch_id].model_copy(deep=True)
