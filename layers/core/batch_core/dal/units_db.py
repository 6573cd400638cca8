import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from batch_core.dal import keys
from batch_core.dal.assembly_db import AssemblyStore
from batch_core.dal.batches_db import TOKEN_COUNTERS, BatchStore
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, one_of, to_attributes, value
from batch_core.dal.listing import read_items
from batch_core.errors import StorageError
from batch_core.models.assembly import BlockChange
from batch_core.models.status import CLOSED_UNIT_COUNTERS, LINE_COUNTERS, UnitState, unit_sources
from batch_core.models.work_unit import AttemptRecord, UnitRecord, WorkUnit

_STATE = {"#state": "state"}
_WORK_UNIT_FIELDS = set(WorkUnit.model_fields)
_PUT_TRIES = 8
_PUT_PAUSE_SECONDS = 0.1


class UnitStore:
    """Work unit records, beside their batch's record; a unit's closing or attempt changes the batch's
    counters and its block's in the same transaction."""

    def __init__(self, aws: AwsClients, batches: BatchStore, assembly: AssemblyStore):
        self.table_name = batches.table_name
        self._aws = aws
        self._batches = batches
        self._assembly = assembly

    def put_all(self, units: Sequence[WorkUnit], ttl: int) -> None:
        """Stores up to 25 new units in one request, pending and never attempted, each replacing any record it had:
        only for units no attempt can have touched yet (prepare's first run, before each is queued)."""
        requests = [{"PutRequest": {"Item": _new_item(unit, ttl)}} for unit in units]
        what = f"store {len(units)} units of batch {units[0].batch_id if units else ''}"
        for _ in range(_PUT_TRIES):
            try:
                answer = self._dynamodb.batch_write_item(RequestItems={self.table_name: requests})
            except AWS_ERRORS as exc:
                raise storage_error(f"could not {what}", exc) from exc
            requests = answer.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests:
                return
            time.sleep(_PUT_PAUSE_SECONDS)
        raise StorageError(f"could not {what}: DynamoDB kept leaving {len(requests)} unprocessed")

    def put_missing(self, units: Sequence[WorkUnit], ttl: int) -> None:
        """Stores those of the units that have no record, each only while it has none: for a prepare run again
        after a run that planned the batch, whose stored units may have run since."""
        for unit in units:
            conditional_write(
                lambda unit=unit: self._dynamodb.put_item(
                    TableName=self.table_name,
                    Item=_new_item(unit, ttl),
                    ConditionExpression="attribute_not_exists(pk)",
                ),
                f"store unit {unit.unit} of batch {unit.batch_id}",
            )

    def get(self, batch_id: str, unit: int) -> UnitRecord | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.unit_key(batch_id, unit)), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read unit {unit} of batch {batch_id}", exc) from exc
        return _from_item(answer["Item"]) if "Item" in answer else None

    def list(self, batch_id: str, *, first_unit: int = 0, last_unit: int | None = None) -> Iterator[UnitRecord]:
        """The batch's units in order, from `first_unit` to `last_unit` inclusive, read as the caller reads on."""
        last = keys.unit_key(batch_id, last_unit)["sk"] if last_unit is not None else keys.UNIT_SK_PREFIX + "~"
        query = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": value(keys.units_partition(batch_id)),
                ":first": value(keys.unit_key(batch_id, first_unit)["sk"]),
                ":last": value(last),
            },
            "ConsistentRead": True,
        }
        return (_from_item(item) for item in read_items(self._dynamodb, query, f"the units of batch {batch_id}"))

    def claim(
        self, batch_id: str, unit: int, *, now: int, lease_seconds: int, force: bool = False, holder: str | None = None
    ) -> UnitRecord | None:
        """Starts a new attempt on a unit that may run (any such unit when forced, else one that is not running
        or whose lease ran out); None when the unit may not be claimed.

        `holder` names the delivery that runs the attempt, so a delivery can tell its own attempt from another's."""
        condition, values = one_of("#state", unit_sources(UnitState.RUNNING), "from")
        values.update({":running": value(UnitState.RUNNING), ":one": value(1), ":lease": value(now + lease_seconds)})
        if not force:
            condition += " AND (#state <> :running OR lease_until < :now)"
            values[":now"] = value(now)
        expression = "SET #state = :running, lease_until = :lease"
        if holder is not None:
            expression += ", holder = :holder"
            values[":holder"] = value(holder)
        else:
            expression += " REMOVE holder"
        answer = conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.unit_key(batch_id, unit)),
                UpdateExpression=expression + " ADD attempt :one",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames=_STATE,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            ),
            f"claim unit {unit} of batch {batch_id}",
        )
        return _from_item(answer["Attributes"]) if answer is not None else None

    def record_attempt(self, unit: UnitRecord, record: AttemptRecord) -> bool:
        """Ends the unit's current attempt: its finished lines, the batch's line counters, its token totals, its
        lines waiting for capacity and its block's counters change together, once.

        False when the attempt no longer owns the unit (its lease was taken over, or the unit was cancelled or
        expired meanwhile): nothing changes.
        """
        finished = record.finished
        done = len(set(unit.finished) | set(finished)) == unit.count
        next_state = UnitState.DONE if done else UnitState.PENDING
        condition, values = one_of("#state", unit_sources(next_state), "from")
        values.update({":attempt": value(unit.attempt), ":next": value(next_state), ":zero": value(0)})
        values[":waiting"] = value(record.waiting)
        expression = "SET #state = :next, lease_until = :zero, waiting = :waiting"
        if not done:
            expression += ", retries = :retries"
            values[":retries"] = value({str(index): count for index, count in record.retries.items()})
        if record.outputs_key:
            expression += ", outputs = list_append(if_not_exists(outputs, :empty), :outputs)"
            values[":empty"] = value([])
            values[":outputs"] = value([record.outputs_key])
        outcomes = Counter(finished.values())
        if finished:
            expression += " ADD n_succeeded :succeeded, n_failed :failed"
            values[":succeeded"] = value(outcomes["succeeded"])
            values[":failed"] = value(outcomes["failed"])
            if not done:
                expression += ", finished :finished"
                values[":finished"] = value(set(finished))
        if done:
            # A done unit's lines are all in its outputs; keeping the per-line bookkeeping would only make
            # every later read of the unit (items pages, assembly) larger.
            expression += " REMOVE finished, retries"
        unit_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_attributes(keys.unit_key(unit.batch_id, unit.unit)),
                "UpdateExpression": expression,
                "ConditionExpression": f"{condition} AND attempt = :attempt",
                "ExpressionAttributeNames": _STATE,
                "ExpressionAttributeValues": values,
            }
        }
        deltas = {LINE_COUNTERS[status]: count for status, count in outcomes.items()}
        deltas.update({name: getattr(record.usage, name) for name in TOKEN_COUNTERS})
        deltas.update(lines_waiting=record.waiting - unit.waiting)
        deltas = {name: delta for name, delta in deltas.items() if delta}
        items = [unit_update, self._assembly.block_update(unit.batch_id, record.block)]
        if deltas:
            since = int(time.time()) if record.waiting else None
            items.append(self._batches.counters_update(unit.batch_id, deltas, waiting_since=since))
        return self._transact(items, unit)

    def close(self, units: Sequence[UnitRecord], *, to: UnitState, blocks: Sequence[BlockChange]) -> bool:
        """Moves unfinished units of one batch to `to` (cancelled or expired) from a state the status table allows,
        all or none, in one transaction with their blocks' changes; their unfinished lines count under the batch
        counter of that state. False when a unit was not in such a state or changed meanwhile: the condition on
        `attempt` makes a concurrent attempt's results (or this close) lose cleanly. At most 40 units, so the
        transaction stays within DynamoDB's 100 items."""
        condition, states = one_of("#state", unit_sources(to), "from")
        items: list[dict[str, Any]] = []
        for unit in units:
            values = {**states, ":to": value(to), ":attempt": value(unit.attempt), ":one": value(1), ":zero": value(0)}
            items.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": to_attributes(keys.unit_key(unit.batch_id, unit.unit)),
                        "UpdateExpression": "SET #state = :to, waiting = :zero ADD attempt :one",
                        "ConditionExpression": f"attempt = :attempt AND {condition}",
                        "ExpressionAttributeNames": _STATE,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        batch_id = units[0].batch_id
        deltas = {
            CLOSED_UNIT_COUNTERS[to]: sum(len(unit.unfinished) for unit in units),
            "lines_waiting": -sum(unit.waiting for unit in units),
        }
        items.append(self._batches.counters_update(batch_id, {name: delta for name, delta in deltas.items() if delta}))
        items.extend(self._assembly.block_update(batch_id, block) for block in blocks)
        return self._transact(items, units[0])

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")

    def _transact(self, items: Sequence[dict[str, Any]], unit: UnitRecord) -> bool:
        written = conditional_write(
            lambda: self._dynamodb.transact_write_items(TransactItems=items),
            f"update unit {unit.unit} of batch {unit.batch_id}",
        )
        return written is not None


def _new_item(unit: WorkUnit, ttl: int) -> dict[str, Any]:
    """A new unit's record: only what differs from a fresh UnitRecord's defaults, plus `state` and `attempt`, which
    conditions compare. Prepare stores a unit per 50 lines, so every attribute counts."""
    fresh = {"state": UnitState.PENDING.value, "attempt": 0, "ttl": ttl}
    return to_attributes(
        {**unit.model_dump(include=_WORK_UNIT_FIELDS), **fresh, **keys.unit_key(unit.batch_id, unit.unit)}
    )


def _from_item(item: dict[str, Any]) -> UnitRecord:
    return UnitRecord.model_validate(from_attributes(item))
