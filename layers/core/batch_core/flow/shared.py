"""The limiter every executor consults: the rules of flow/limiter.py applied to the shared records."""

from batch_core.dal.limits_db import LimitStore
from batch_core.flow import limiter
from batch_core.models.limit import Grant, Report
from batch_core.models.route import Route


class SharedLimiter:
    def __init__(self, store: LimitStore):
        self._store = store

    def take(self, route: Route, model: str, estimates: list[int], *, tenant: str, holder: str, until: float) -> Grant:
        """Capacity for the first lines of `estimates`, taken in one write for all of them."""
        return self._store.change(
            route.name,
            model,
            lambda state, now: limiter.take(
                state, route.limits, now, estimates, tenant=tenant, holder=holder, until=until
            ),
        )

    def report(self, route: Route, model: str, holder: str, seen: Report) -> None:
        self._store.change(
            route.name, model, lambda state, now: (limiter.report(state, route.limits, now, holder, seen), None)
        )
