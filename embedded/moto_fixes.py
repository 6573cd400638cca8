"""Workarounds for moto, not models of AWS, so the local stack is neither racy nor slower than the
design as its tables and queues grow:
- DynamoDB TransactWriteItems deep-copies every table it touches (for rollback) while other
  request threads may write to the same items, which fails now and then with "dictionary changed
  size during iteration"; so writes run one at a time, and a transaction saves and restores only
  the items it touches instead of copying whole tables (a cost that grew with the table).
- DynamoDB item reads and writes go through moto's generic response serializer, which costs tens of
  microseconds per attribute value (seconds for a page of work units); their results are already
  DynamoDB JSON, so they are written out as such.
- SQS ReceiveMessage recomputes every queue attribute, counting all messages, for each message it
  considers; the retention check only needs the retention period."""

import base64
import copy
import functools
import json
import threading
from typing import Any

from moto.core.utils import unix_time
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.sqs.models import Message, SQSBackend

_WRITES = threading.RLock()  # a transaction calls the other write methods
_WRITE_METHODS = ("put_item", "update_item", "delete_item")
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"})


def apply_moto_fixes() -> None:
    for name in _WRITE_METHODS:
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, "fixed", False):
            setattr(DynamoDBBackend, name, _serialized(original))
    if not getattr(DynamoDBBackend.transact_write_items, "fixed", False):
        DynamoDBBackend.transact_write_items = _transaction_saving_its_items(DynamoDBBackend.transact_write_items)
    dynamodb_models.copy = _TablesByReference  # type: ignore[assignment]
    if not getattr(DynamoResult.execute_result, "fixed", False):
        DynamoResult.execute_result = _items_as_plain_json(DynamoResult.execute_result)  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]


def _serialized(method: Any) -> Any:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(*args, **kwargs)

    locked.fixed = True  # type: ignore[attr-defined]
    return locked


class _TablesByReference:
    """The `copy` module as moto's DynamoDB backend sees it: a table's rollback copy is the table itself."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _transaction_saving_its_items(method: Any) -> Any:
    @functools.wraps(method)
    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _WRITES:
            saved = [_save(self, operation) for entry in transact_items for operation in entry.values()]
            try:
                method(self, transact_items)
            except Exception:
                for restore in reversed([restore for restore in saved if restore is not None]):
                    restore()
                raise

    transact.fixed = True  # type: ignore[attr-defined]
    return transact


def _save(backend: DynamoDBBackend, operation: dict[str, Any]) -> Any:
    """Returns how to put the operation's item back as it is now."""
    table = backend.tables.get(operation.get("TableName", ""))
    if table is None:
        return None
    key = operation.get("Key") or operation.get("Item", {})
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    before: Item | None = copy.deepcopy(table.get_item(hash_value, range_value))

    def restore() -> None:
        if before is None:
            table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = before
        else:
            table.items[hash_value][range_value] = before

    return restore


def _items_as_plain_json(method: Any) -> Any:
    @functools.wraps(method)
    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_OPERATIONS:
            return method(self, context)
        body = json.dumps(self.result, default=lambda data: base64.b64encode(data).decode())
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result.fixed = True  # type: ignore[attr-defined]
    return execute_result


def _within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)
    return message.sent_timestamp / 1000 + retention_seconds > unix_time()  # type: ignore[operator]
