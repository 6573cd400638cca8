"""The routing table the executor sends lines by: `UPSTREAMS` (JSON, or a file holding it) where set, else the
SSM parameter the template makes; the single upstream of UPSTREAM_BASE_URL routes every other model."""

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from batch_core.dal.parameters import ParameterStore
from batch_core.models.route import DEFAULT_ROUTE, Route, RouteTable
from batch_core.settings import Settings


def load_routes(settings: Settings, parameters: ParameterStore) -> RouteTable:
    """Raises ValueError naming what is wrong in the configured table."""
    configured: Any = []
    if settings.upstreams.strip():
        configured = _read_json(settings.upstreams)
    elif settings.upstreams_parameter:
        configured = parameters.json(settings.upstreams_parameter)
    if isinstance(configured, dict):
        configured = configured.get("upstreams", [configured])
    try:
        routes = [Route.model_validate(route) for route in configured or []]
        if not any(route.name == DEFAULT_ROUTE for route in routes):
            routes.append(default_route(settings))
        return RouteTable(routes=routes)
    except ValidationError as exc:
        raise ValueError(f"the upstreams table is not valid: {exc}") from exc


def default_route(settings: Settings) -> Route:
    return Route(
        name=DEFAULT_ROUTE,
        models=["*"],
        base_url=settings.upstream_base_url,
        api_key_secret=settings.upstream_api_key_secret or None,
    )


def _read_json(text: str) -> Any:
    """JSON text, or the path of a file holding it."""
    source = text.strip()
    if not source.startswith(("[", "{")):
        source = Path(source).read_text()
    try:
        return json.loads(source)
    except ValueError as exc:
        raise ValueError(f"UPSTREAMS is not JSON (nor a file holding JSON): {exc}") from exc
