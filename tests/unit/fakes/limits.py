"""The limiter's records and SSM parameters in memory."""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from batch_core.errors import StorageError
from batch_core.models.limit import LimitState

Result = TypeVar("Result")


class FakeLimitStore:
    """Its clock runs `skipped` seconds ahead of the real one: a test lets a pause pass with `skip`."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], LimitState] = {}
        self.writes = 0
        self.skipped = 0.0
        self._lock = threading.Lock()

    def skip(self, seconds: float) -> None:
        self.skipped += seconds

    def change(
        self,
        route: str,
        model: str,
        change: Callable[[LimitState, float], tuple[LimitState, Result]],
        stands: Callable[[Result], bool] | None = None,
    ) -> Result:
        """Each change is applied in turn: none loses, so none has to stand without its write."""
        with self._lock:
            changed, result = change(self.records.get((route, model), LimitState()), time.time() + self.skipped)
            self.records[(route, model)] = changed
            self.writes += 1
            return result


class FakeParameterStore:
    def __init__(self, parameters: dict[str, Any] | None = None):
        self.parameters = dict(parameters or {})

    def json(self, name: str) -> Any:
        if name not in self.parameters:
            raise StorageError(f"could not read the parameter {name}")
        return self.parameters[name]
