"""The routing table: which upstream a model goes to, read from UPSTREAMS, a file or the SSM parameter."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from batch_core.models.route import Route, RouteLimits
from batch_core.routing import load_routes
from batch_core.settings import Settings
from batch_core.upstream import Upstreams
from tests.unit.fakes.limits import FakeParameterStore

TABLE = [
    {"name": "mini", "models": ["gpt-4o-mini"], "base_url": "http://mini/v1", "limits": {"requests_per_minute": 600}},
    {"name": "openai", "models": ["gpt-*", "text-embedding-*"], "base_url": "http://openai/v1"},
]


def test_an_exact_model_name_wins_over_a_prefix_and_other_models_take_the_default_route() -> None:
    table = load_routes(
        Settings(upstreams=json.dumps(TABLE), upstream_base_url="http://default/v1"), FakeParameterStore()
    )

    chosen = {model: table.route_for(model).name for model in ("gpt-4o-mini", "gpt-4o", "text-embedding-3", "llama")}

    assert chosen == {"gpt-4o-mini": "mini", "gpt-4o": "openai", "text-embedding-3": "openai", "llama": "default"}
    assert table.route_for("gpt-4o-mini").limits == RouteLimits(requests_per_minute=600)
    assert table.route_for("llama").base_url == "http://default/v1"


def test_the_table_may_be_a_file_or_the_ssm_parameter(tmp_path: Path) -> None:
    path = tmp_path / "upstreams.json"
    path.write_text(json.dumps(TABLE))
    parameters = FakeParameterStore({"/batch/upstreams": TABLE})

    from_file = load_routes(Settings(upstreams=str(path)), FakeParameterStore())
    from_parameter = load_routes(Settings(upstreams_parameter="/batch/upstreams"), parameters)

    assert [route.name for route in from_file.routes] == ["mini", "openai", "default"]
    assert from_parameter.routes == from_file.routes


@pytest.mark.parametrize(
    ("upstreams", "message"),
    [
        ("[{", "UPSTREAMS is not JSON"),
        ('[{"name": "x"}]', "base_url"),
        ('[{"name": "x", "base_url": "u", "limits": {"requests_per_minute": 0}}]', "requests_per_minute"),
        ('[{"name": "x", "base_url": "u"}, {"name": "x", "base_url": "v"}]', "unique"),
    ],
)
def test_a_bad_table_is_refused_naming_what_is_wrong(upstreams: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_routes(Settings(upstreams=upstreams), FakeParameterStore())


def test_the_executors_read_a_changed_table_within_a_refresh() -> None:
    parameters = FakeParameterStore({"/batch/upstreams": TABLE})
    settings = Settings(upstreams_parameter="/batch/upstreams")
    upstreams = Upstreams(
        load_routes(settings, parameters), lambda route: route.base_url, lambda: load_routes(settings, parameters)
    )
    parameters.parameters["/batch/upstreams"] = [{**TABLE[0], "base_url": "http://moved/v1"}]

    before = upstreams.client(upstreams.route_for("gpt-4o-mini"))
    upstreams.REFRESH_SECONDS = 0
    upstreams.refresh()
    after = upstreams.client(upstreams.route_for("gpt-4o-mini"))

    assert (before, after) == ("http://mini/v1", "http://moved/v1")


def test_lines_starting_together_connect_to_their_route_once() -> None:
    connects: list[str] = []

    def connect(route: Route) -> str:
        time.sleep(0.01)  # reading the API key's secret takes a while
        connects.append(route.name)
        return route.base_url

    upstreams = Upstreams(load_routes(Settings(upstreams=json.dumps(TABLE)), FakeParameterStore()), connect)
    route = upstreams.route_for("gpt-4o-mini")
    with ThreadPoolExecutor(max_workers=50) as lines:
        clients = set(lines.map(lambda _: upstreams.client(route), range(50)))

    assert (connects, clients) == (["mini"], {"http://mini/v1"})
