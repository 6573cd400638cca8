"""A workaround for moto, not a model of AWS: its DynamoDB TransactWriteItems deep-copies each
table it touches (for rollback) while other request threads may write to the same items, which
fails now and then with "dictionary changed size during iteration". So writes run one at a time."""

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = threading.RLock()  # a transaction calls the other write methods
_WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")


def serialize_dynamodb_writes() -> None:
    for name in _WRITE_METHODS:
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, "serialized", False):
            setattr(DynamoDBBackend, name, _serialized(original))


def _serialized(method: Any) -> Any:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(*args, **kwargs)

    locked.serialized = True  # type: ignore[attr-defined]
    return locked
