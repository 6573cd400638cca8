import pytest

from batch_core.workflow.watchdog import MAX_CYCLES, watchdog_wait

DAY = 86_400


@pytest.mark.parametrize(
    ("window", "left", "watchdog", "wait"),
    [
        (DAY, DAY, 120, 120),  # a day's cycles fit at the template's default period
        (7 * DAY, 7 * DAY, 10, 355),  # the longest window at the shortest period is stretched to fit
        (7 * DAY, 100, 10, 100),  # never past the window's end
        (60, 60, 2, 2),
        (60, 0, 2, 1),
    ],
)
def test_the_watchdog_period_stretches_only_as_far_as_the_history_needs(
    window: int, left: int, watchdog: int, wait: int
) -> None:
    assert watchdog_wait(window, left, watchdog) == wait


def test_the_longest_window_takes_no_more_cycles_than_the_history_holds() -> None:
    assert 7 * DAY / watchdog_wait(7 * DAY, 7 * DAY, 10) <= MAX_CYCLES
