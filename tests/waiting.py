import time
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")


def wait_for(condition: Callable[[], Result], timeout: float) -> Result:
    """The first truthy answer of `condition`, asked every 50 ms; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise TimeoutError(f"condition not met after {timeout}s")
