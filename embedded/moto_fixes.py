"""Workarounds for moto, not models of AWS, so the local stack is neither racy nor slower than the
design as its tables and queues grow. Each function here is given the moto attribute it stands in
for and returns its replacement; `embedded.moto_patches` applies them and puts moto back."""

import base64
import copy
import functools
import heapq
import json
import re
import threading
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from moto.sqs.models import Message, Queue, SQSBackend

_WRITES = threading.RLock()  # a transaction calls the other write methods
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"})


def one_at_a_time(method: Any) -> Any:
    """`DynamoDBBackend.put_item`, `update_item`, `delete_item`, `get_item`, `query` and `scan`: moto's
    server answers each request on its own thread; writes change a table's item dictionaries in place
    while a transaction or a read (moto deep-copies the items it answers with) on another thread
    iterates the same dictionaries, which fails now and then with "dictionary changed size during
    iteration" (a 500 to the caller). And moto checks a write's ConditionExpression, then writes, with
    no lock between: two threads writing over one version can both pass, and the second write loses
    the first, which DynamoDB never allows. The replacement runs the call under the one lock
    transactions hold too."""

    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(*args, **kwargs)

    return locked


def transaction_saving_its_items(method: Any) -> Any:
    """`DynamoDBBackend.transact_write_items`: moto deep-copies every table the transaction touches so it
    can roll back, a cost that grows with the table (and races with other writers). The replacement
    holds the write lock, saves only the items the transaction names and, if moto raises, puts
    exactly those back; `tables_by_reference` turns moto's own whole-table copy into a no-op."""

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


def one_partition_queried(method: Any) -> Any:
    """`Table.query`: moto hands every query the whole table, sorted by comparing keys in Python, and only then
    keeps the items the query asks for, so a query of a few records costs a sort of the whole table (seconds with a
    million-line batch's units in it). The replacement hands moto's own query, through a stand-in for the table,
    only the items that can match: the queried partition's within the range condition, or for an index the items
    holding its partition key's value; moto then filters, sorts and pages them as before."""

    @functools.wraps(method)
    def query(self: Table, hash_key: Any, range_comparison: Any, range_objs: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        if index_name:
            wanted = (kwargs.get("hash_key_conditions") or [])[:1]
            candidates = [item for item in _every_item(self) if all(_holds(item, name, key) for name, key in wanted)]
        else:
            partition = self.items.get(hash_key) or {}
            candidates = [
                item
                for item in partition.values()
                if not range_comparison or item.range_key.compare(range_comparison, range_objs)  # type: ignore[union-attr]
            ]
        return method(_Candidates(self, candidates), hash_key, range_comparison, range_objs, *args, **kwargs)

    return query


class _Candidates:
    """A table whose `all_items` are only the given items; everything else is the table's own."""

    def __init__(self, table: Table, items: list[Item]):
        self._table = table
        self._items = items

    def all_items(self) -> list[Item]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _holds(item: Item, name: str, key: DynamoType) -> bool:
    found = item.attrs.get(name)
    return found is not None and found == key


def _every_item(table: Table) -> Iterator[Item]:
    for stored in table.items.values():
        yield from (stored.values() if table.range_key_attr else [stored])  # type: ignore[union-attr, list-item]


def tables_by_reference(copy_module: Any) -> Any:
    """`moto.dynamodb.models.copy` (the `copy` module as moto's DynamoDB backend imported it): its
    `deepcopy` of a whole table is the rollback copy `transaction_saving_its_items` makes unneeded.
    The replacement's `deepcopy` hands a table back as it is and copies anything else as before."""

    class TablesByReference:
        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy_module.deepcopy(value, memo)

    return TablesByReference


def items_as_plain_json(method: Any) -> Any:
    """`DynamoResult.execute_result` (inherited from moto's `ActionResult`): every answer goes through
    moto's generic response serializer, which costs tens of microseconds per attribute value (seconds
    for a page of work units). Item results are already DynamoDB JSON, so the replacement writes them
    out as such (binary values in base64, as the wire has them) and leaves other operations to moto."""

    @functools.wraps(method)
    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_OPERATIONS:
            return method(self, context)
        body = json.dumps(self.result, default=lambda data: base64.b64encode(data).decode())
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    return execute_result


def retention_period_alone(method: Any) -> Any:
    """`SQSBackend.is_message_valid_based_on_retention_period`: moto asks for the queue's attributes to
    read the retention period, which recomputes all of them, counting every message, for each message
    a receive considers. The replacement reads the retention period alone; the rule is moto's."""

    def within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
        retention_seconds = int(self.get_queue(queue_name).message_retention_period)
        return message.sent_timestamp / 1000 + retention_seconds > unix_time()  # type: ignore[operator]

    return within_retention


_SENDING = threading.local()


def sending_without_counting(method: Any) -> Any:
    """`SQSBackend.send_message`: moto reads the queue's attributes to learn one flag (ContentBasedDeduplication),
    and reading them counts every message of the queue, so each send took as long as the queue was long (seconds
    a batch once a million-line batch's units were queued). While a message is sent, the replacement has the queue's
    attributes answered with their message counts left at 0 (`attributes_counted_unless_sending`): sending reads
    no count."""

    @functools.wraps(method)
    def send(self: SQSBackend, *args: Any, **kwargs: Any) -> Message:
        _SENDING.active = True
        try:
            return method(self, *args, **kwargs)
        finally:
            _SENDING.active = False

    return send


def attributes_counted_unless_sending(attributes: property) -> property:
    """`Queue.attributes` (a property): moto's own, but while `sending_without_counting` sends a message, worked out
    over a stand-in for the queue whose message counts are 0."""

    def read(self: Queue) -> dict[str, Any]:
        if getattr(_SENDING, "active", False):
            return attributes.fget(_Uncounted(self))  # type: ignore[misc, no-any-return]
        return attributes.fget(self)  # type: ignore[misc, no-any-return]

    return property(read)


class _Uncounted:
    approximate_number_of_messages = 0
    approximate_number_of_messages_not_visible = 0
    approximate_number_of_messages_delayed = 0

    def __init__(self, queue: Queue):
        self._queue = queue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


_RANGE = threading.local()
_ONE_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def ranges_read_alone(method: Any) -> Any:
    """`S3Response.get_object`: for a ranged GET moto reads the object's whole value, then cuts the range from it,
    so each work unit's read of a 400 MB input copied 400 MB. For a GET of one byte range the replacement has the
    object's value answered as a window (`values_windowed_for_ranges`) that moto's range handling cuts the same
    way, and that reads only the bytes cut."""

    @functools.wraps(method)
    def get_object(self: S3Response) -> Any:
        asked = _ONE_RANGE.match(self.headers.get("range") or "")
        # Only a range moto cuts: one that starts inside the object and ends after it starts.
        cut = asked is not None and (not asked.group(2) or int(asked.group(2)) >= int(asked.group(1)))
        _RANGE.start = int(asked.group(1)) if asked and cut and not self._get_int_param("partNumber") else None
        try:
            return method(self)
        finally:
            _RANGE.start = None

    return get_object


def values_windowed_for_ranges(value: property) -> property:
    """`FakeKey.value` (a property): moto's own, but while `ranges_read_alone` answers a GET of a range that starts
    inside the object, a window onto its bytes."""

    def read(self: FakeKey) -> Any:
        start = getattr(_RANGE, "start", None)
        if start is None or start >= self.size:
            return value.fget(self)  # type: ignore[misc]
        return _Window(self)

    return property(read, value.fset)


class _Window:
    """An object's value as moto's range handling uses it: its length, and the bytes of a slice, read on demand."""

    def __init__(self, key: FakeKey):
        self._key = key

    def __len__(self) -> int:
        return int(self._key.size)

    def __getitem__(self, cut: slice) -> bytes:
        start, stop, _ = cut.indices(len(self))
        with self._key.lock:
            self._key._value_buffer.seek(start)
            return bytes(self._key._value_buffer.read(max(0, stop - start)))


_SERVED_SECONDS = 10.0


# A receive takes at most ten messages; the fair order is worked out for that many.
_RECEIVE_MOST = 10


def fair_queue_order(messages: property) -> property:
    """`Queue.messages` (a property): moto hands out a standard queue's visible messages oldest first, whatever
    their MessageGroupId, and works out each message's visibility with two clock readings, so a receive from a
    queue of 20,000 units (a million-line batch) took a tenth of a second. An SQS fair queue (a standard queue
    whose messages carry a group) serves the quiet groups first, so one tenant's backlog does not hold back another's
    few messages. The replacement reads the clock once, and puts first the ten messages of a standard queue that
    rank lowest by their group's messages in flight, plus the group's deliveries in the last ten seconds
    (`fair_receive` records them: a poller that deletes each message before its next receive never has any in
    flight), plus their place within the group; the rest follow oldest first. A FIFO queue keeps moto's order."""

    def fair(self: Queue) -> list[Message]:
        if self.fifo_queue:
            return messages.fget(self)  # type: ignore[misc]
        now = unix_time_millis()
        visible = [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]
        if len({message.group_id for message in visible}) < 2:
            return visible
        in_flight = Counter(message.group_id for message in self.pending_messages if now <= message.visible_at)
        recent = _recently_served(self)
        places: Counter[str | None] = Counter()
        ranked = []
        for position, message in enumerate(visible):
            group = message.group_id
            ranked.append((in_flight[group] + recent[group] + places[group], position))
            places[group] += 1
        first = [position for _, position in heapq.nsmallest(_RECEIVE_MOST, ranked)]
        chosen = set(first)
        return [visible[n] for n in first] + [message for n, message in enumerate(visible) if n not in chosen]

    return property(fair)


def fair_receive(method: Any) -> Any:
    """`SQSBackend.receive_message`: moto's own, which also records, per queue, when each message group was
    last served, for `fair_queue_order`."""

    @functools.wraps(method)
    def receive(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> list[Message]:
        received: list[Message] = method(self, queue_name, *args, **kwargs)
        served = self.get_queue(queue_name).__dict__.setdefault("_served", deque())
        now = unix_time()
        served.extend((now, message.group_id) for message in received if message.group_id)
        return received

    return receive


def _recently_served(queue: Queue) -> Counter[str | None]:
    served = queue.__dict__.setdefault("_served", deque())
    while served and served[0][0] < unix_time() - _SERVED_SECONDS:
        served.popleft()
    return Counter(group for _, group in served)
