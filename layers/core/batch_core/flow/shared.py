"""The limiter every executor consults: the rules of flow/limiter.py applied to the shared records."""

from batch_core.dal.limits_db import LimitStore
from batch_core.flow import limiter
from batch_core.models.limit import Grant, LimitState, Report
from batch_core.models.route import Route


class SharedLimiter:
    def __init__(self, store: LimitStore):
        self._store = store

    def take(self, route: Route, model: str, estimates: list[int], *, tenant: str, holder: str, until: float) -> Grant:
        """Capacity for the first lines of `estimates`, taken in one write for all of them. On a route nothing
        bounds, the grant holds without its write: the lines start without waiting for it, and it is not tried
        again if another executor's wins."""
        return self._store.change(
            route.name,
            model,
            lambda state, now: limiter.take(
                state, route.limits, now, estimates, tenant=tenant, holder=holder, until=until
            ),
            stands=lambda grant: not grant.bounded,
        )

    def report(self, route: Route, model: str, holder: str, seen: Report) -> None:
        """A report that teaches nothing, on a route nothing bounds, only ends a lease that bounds nothing: the
        attempt does not wait for its write, which is not tried again if another executor's wins."""

        def change(state: LimitState, now: float) -> tuple[LimitState, bool]:
            matters = limiter.bounded(state, route.limits) or limiter.teaches(seen)
            return limiter.report(state, route.limits, now, holder, seen), matters

        self._store.change(route.name, model, change, stands=lambda matters: not matters)
