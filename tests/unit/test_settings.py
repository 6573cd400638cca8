import itertools
from typing import Any

import pytest
from pydantic import ValidationError

from batch_core.settings import Settings
from embedded.template import load_template

TEMPLATE = load_template()


def _executor_environment(parameters: dict[str, Any]) -> dict[str, str]:
    """The executor's environment as CloudFormation would set it, with these parameter values."""
    shared = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = TEMPLATE["Resources"]["ExecutorFunction"]["Properties"]["Environment"]["Variables"]
    resolved = {}
    for name, value in {**shared, **own}.items():
        if name.lower() not in Settings.model_fields:
            continue
        if isinstance(value, dict) and value.get("Ref") in parameters:
            resolved[name.lower()] = str(parameters[value["Ref"]])
        elif not isinstance(value, dict):
            resolved[name.lower()] = str(value)
    return resolved


def test_an_upstream_timeout_that_leaves_no_time_to_save_is_rejected_naming_both_settings() -> None:
    with pytest.raises(ValidationError) as rejected:
        Settings(upstream_timeout_seconds=145, executor_timeout_seconds=150, save_margin_seconds=10)

    assert (
        "UPSTREAM_TIMEOUT_SECONDS (145) plus SAVE_MARGIN_SECONDS (10) must fit in EXECUTOR_TIMEOUT_SECONDS (150)"
        in str(rejected.value)
    )


def test_a_lease_shorter_than_the_executor_timeout_is_rejected() -> None:
    with pytest.raises(ValidationError) as rejected:
        Settings(lease_seconds=120, executor_timeout_seconds=150, upstream_timeout_seconds=60)

    assert (
        "LEASE_SECONDS (120) must outlast EXECUTOR_TIMEOUT_SECONDS (150), or a running attempt would lose its unit"
        in str(rejected.value)
    )


def _extremes(name: str) -> list[Any]:
    spec = TEMPLATE["Parameters"][name]
    return [value for value in (spec.get("MinValue"), spec["Default"], spec.get("MaxValue")) if value is not None]


@pytest.mark.parametrize(
    ("unit_lines", "attempts", "watchdog"),
    itertools.product(_extremes("WorkUnitLines"), _extremes("MaxLineAttempts"), _extremes("WatchdogSeconds")),
)
def test_every_parameter_combination_the_template_accepts_gives_valid_executor_settings(
    unit_lines: int, attempts: int, watchdog: int
) -> None:
    parameters = {"WorkUnitLines": unit_lines, "MaxLineAttempts": attempts, "WatchdogSeconds": watchdog}

    settings = Settings(**_executor_environment(parameters))

    assert settings.work_unit_lines == unit_lines and settings.watchdog_seconds == watchdog


def test_the_executor_timeout_the_settings_know_is_the_functions_and_the_queue_outlasts_it() -> None:
    executor = TEMPLATE["Resources"]["ExecutorFunction"]["Properties"]
    queue = TEMPLATE["Resources"]["WorkQueue"]["Properties"]

    assert executor["Environment"]["Variables"]["EXECUTOR_TIMEOUT_SECONDS"] == executor["Timeout"]
    assert queue["VisibilityTimeout"] >= executor["Timeout"]
