"""Running calls side by side on a few threads while their inputs are still being produced, holding only a bounded
number of them at once."""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

Item = TypeVar("Item")


def in_groups(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """The items, `size` at a time (the last group may hold fewer)."""
    found = iter(items)
    while group := list(islice(found, size)):
        yield group


def each_side_by_side(call: Callable[[Item], object], items: Iterable[Item], *, workers: int) -> None:
    """Calls `call` on every item, `workers` at a time, in the items' order, reading the items on this thread as
    calls finish (at most twice `workers` wait); the first call that raises stops the rest and is raised."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: deque[Future[object]] = deque()
        try:
            for item in items:
                running.append(pool.submit(call, item))
                if len(running) >= 2 * workers:
                    running.popleft().result()
            while running:
                running.popleft().result()
        finally:
            for waiting in running:
                waiting.cancel()
