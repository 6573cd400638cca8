"""Where a line's model is sent: the routing table of upstreams, each with its optional limits."""

from pydantic import BaseModel, Field, model_validator

DEFAULT_ROUTE = "default"


class RouteLimits(BaseModel):
    """What the upstream admits; a limit left out is learned from its answers."""

    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    max_in_flight: int | None = Field(default=None, ge=1)


class Route(BaseModel):
    """An upstream and the models it serves: exact names, or prefixes ending in `*` (`*` alone: every model).

    The API key is a Secrets Manager secret in AWS (`api_key_secret`); the local stack may name an
    environment variable instead (`api_key_env`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    models: list[str] = Field(default_factory=lambda: ["*"])
    base_url: str = Field(min_length=1)
    api_key_secret: str | None = None
    api_key_env: str | None = None
    limits: RouteLimits = Field(default_factory=RouteLimits)

    def match(self, model: str) -> int | None:
        """How closely the route names the model (longer is closer), or None."""
        best = None
        for pattern in self.models:
            if pattern == model:
                return len(pattern) + 1
            if pattern.endswith("*") and model.startswith(pattern[:-1]):
                best = max(best or 0, len(pattern) - 1)
        return best


class RouteTable(BaseModel):
    routes: list[Route]

    @model_validator(mode="after")
    def _names_are_unique(self) -> "RouteTable":
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"upstream names must be unique, got {names}")
        if not self.routes:
            raise ValueError("the routing table needs at least one upstream")
        return self

    def route_for(self, model: str | None) -> Route:
        """The route naming the model most closely (an exact name before any prefix); else the default
        route, else the last route."""
        matches = [(route.match(model or ""), n, route) for n, route in enumerate(self.routes)]
        found = [(score, -n, route) for score, n, route in matches if score is not None]
        if found:
            return max(found, key=lambda entry: entry[:2])[2]
        named = {route.name: route for route in self.routes}
        return named.get(DEFAULT_ROUTE, self.routes[-1])
