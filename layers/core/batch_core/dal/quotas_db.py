from collections.abc import Callable
from typing import TypeVar

from batch_core.dal import keys
from batch_core.dal.clients import AwsClients
from batch_core.dal.versioned import VersionedRecords
from batch_core.models.quota import QuotaState
from batch_core.settings import Settings

Result = TypeVar("Result")


class QuotaStore:
    """Each tenant's quota record (its limits and its batches' reservations), changed by optimistic writes."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self._records = VersionedRecords(settings.table_name, aws)

    def change(self, tenant_id: str, change: Callable[[QuotaState, float], tuple[QuotaState, Result]]) -> Result:
        return self._records.change(keys.quota_key(tenant_id), QuotaState, f"the quotas of {tenant_id}", change)

    def get(self, tenant_id: str) -> QuotaState:
        return self._records.read(keys.quota_key(tenant_id), QuotaState, f"the quotas of {tenant_id}")[0]
