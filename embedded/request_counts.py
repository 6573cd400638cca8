"""Every AWS call the local stack's functions and pollers make, counted for the benches (`AWS_REQUEST_COUNTS`)."""

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any


class RequestCounts:
    """Calls by `service:Operation`, and the items those with many carry (a BatchWriteItem's puts, a transaction's
    writes), which DynamoDB bills one by one. Counts the clients of the session it is registered with that are made
    after it."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.paused = False
        self._lock = threading.Lock()

    def register(self, session: Any) -> None:
        session.events.register("before-call", self._count)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.items.clear()

    def write(self, path: Path) -> None:
        """Writes the counts to `path`, with those the function processes wrote beside it (`<path>.<pid>`)."""
        calls, items = Counter(self.calls), Counter(self.items)
        for written in path.parent.glob(f"{path.name}.*"):
            counted = json.loads(written.read_text())
            calls.update(counted["calls"])
            items.update(counted["items"])
            written.unlink()
        # Written whole, then renamed into place: the stack reads a function process's counts while it runs.
        written = path.with_name(f".{path.name}.writing")
        written.write_text(json.dumps({"calls": calls, "items": items}))
        written.replace(path)

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self.paused:
            return
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls[name] += 1
            self.items[name] += _items(model.name, params)


def _items(operation: str, params: dict[str, Any]) -> int:
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems", []))
    return 1
