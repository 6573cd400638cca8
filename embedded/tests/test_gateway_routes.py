"""The local gateway picks routes as API Gateway's HTTP API does, and opens only those the template opens."""

from embedded.gateway import Route, route_for
from embedded.template import load_template


def test_a_route_with_authorizer_none_is_open_and_every_other_keeps_the_default_authorizer() -> None:
    events = load_template()["Resources"]["ApiFunction"]["Properties"]["Events"].values()

    routes = [Route.of(event["Properties"]) for event in events if event["Type"] == "HttpApi"]

    assert {(route.method, route.path) for route in routes if not route.authorized} == {
        ("GET", "/watch"),
        ("GET", "/watch/app.js"),
        ("GET", "/watch/app.css"),
    }
    assert {route.path for route in routes if route.authorized} == {"/api/client/v1/{proxy+}", "/v1/{proxy+}"}


def test_an_exact_path_wins_over_a_greedy_one_and_a_greedy_one_needs_a_path_below_it() -> None:
    everything = Route("ANY", "/watch/{proxy+}")
    script = Route("GET", "/watch/app.js", authorized=False)
    routes = [everything, script]

    assert route_for(routes, "GET", "/watch/app.js") == script
    assert route_for(routes, "POST", "/watch/app.js") == everything
    assert route_for(routes, "GET", "/watch/other.js") == everything
    assert route_for(routes, "GET", "/watch/") is None
    assert route_for(routes, "GET", "/watchdog/x") is None
