"""The tenants' quota records in memory."""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from batch_core.models.quota import QuotaState

Result = TypeVar("Result")


class FakeQuotaStore:
    def __init__(self) -> None:
        self.records: dict[str, QuotaState] = {}
        self._lock = threading.Lock()

    def change(self, tenant_id: str, change: Callable[[QuotaState, float], tuple[QuotaState, Result]]) -> Result:
        with self._lock:
            changed, result = change(self.get(tenant_id), time.time())
            self.records[tenant_id] = changed
            return result

    def get(self, tenant_id: str) -> QuotaState:
        return self.records.get(tenant_id, QuotaState())
