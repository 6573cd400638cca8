from collections.abc import Callable
from typing import TypeVar

from batch_core.dal import keys
from batch_core.dal.clients import AwsClients
from batch_core.dal.versioned import VersionedRecords
from batch_core.models.limit import LimitState
from batch_core.settings import Settings

Result = TypeVar("Result")


class LimitStore:
    """The shared limiter's records, one per route and model, changed by optimistic writes."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self._records = VersionedRecords(settings.table_name, aws)

    def change(
        self,
        route: str,
        model: str,
        change: Callable[[LimitState, float], tuple[LimitState, Result]],
        stands: Callable[[Result], bool] | None = None,
    ) -> Result:
        """Applies `change` to the current state and the time now, stores the state it returns, and returns
        its result; a result that `stands` holds even if another writer's change won."""
        return self._records.change(
            keys.limit_key(route, model), LimitState, f"the limiter of {route}/{model}", change, stands
        )
