from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.batches_db import counters_update
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.errors import StorageError
from batch_core.models.work_unit import UnitRecord
from batch_core.settings import get_settings

_STATE = {"#state": "state"}


def _table() -> str:
    return get_settings().table_name


def _from_item(item: dict[str, Any]) -> UnitRecord:
    return UnitRecord.model_validate(from_attributes(item))


def put_unit_in_db(unit: UnitRecord, ttl: int) -> None:
    """Stores a new unit; a unit that already exists (a retried prepare) keeps its progress."""
    item = to_attributes({**unit.model_dump(), **keys.unit_key(unit.batch_id, unit.unit), "ttl": ttl})
    try:
        client("dynamodb").put_item(TableName=_table(), Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if not condition_failed(exc):
            raise StorageError(f"could not store unit {unit.unit} of batch {unit.batch_id}") from exc


def get_unit_in_db(batch_id: str, unit: int) -> UnitRecord | None:
    try:
        answer = client("dynamodb").get_item(
            TableName=_table(), Key=to_attributes(keys.unit_key(batch_id, unit)), ConsistentRead=True
        )
    except ClientError as exc:
        raise StorageError(f"could not read unit {unit} of batch {batch_id}") from exc
    return _from_item(answer["Item"]) if "Item" in answer else None


def list_units_in_db(batch_id: str, *, first_unit: int = 0, last_unit: int | None = None) -> Iterator[UnitRecord]:
    """The batch's units in order, from `first_unit` to `last_unit` inclusive."""
    last = keys.unit_key(batch_id, last_unit)["sk"] if last_unit is not None else keys.UNIT_SK_PREFIX + "~"
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": value(keys.units_partition(batch_id)),
                ":first": value(keys.unit_key(batch_id, first_unit)["sk"]),
                ":last": value(last),
            },
            ConsistentRead=True,
        )
    )
    try:
        for page in pages:
            yield from (_from_item(item) for item in page["Items"])
    except ClientError as exc:
        raise StorageError(f"could not list the units of batch {batch_id}") from exc


def claim_unit_in_db(
    batch_id: str, unit: int, *, now: int, lease_seconds: int, force: bool = False, holder: str | None = None
) -> UnitRecord | None:
    """Starts a new attempt on a unit that is pending or whose lease ran out (any unfinished unit when forced).

    `holder` names the delivery that runs the attempt, so a delivery can tell its own attempt from another's."""
    condition = (
        "#state IN (:pending, :running)"
        if force
        else ("#state = :pending OR (#state = :running AND lease_until < :now)")
    )
    values = {":pending": value("pending"), ":running": value("running"), ":one": value(1)}
    values[":lease"] = value(now + lease_seconds)
    if not force:
        values[":now"] = value(now)
    expression = "SET #state = :running, lease_until = :lease"
    if holder is not None:
        expression += ", holder = :holder"
        values[":holder"] = value(holder)
    else:
        expression += " REMOVE holder"
    try:
        answer = client("dynamodb").update_item(
            TableName=_table(),
            Key=to_attributes(keys.unit_key(batch_id, unit)),
            UpdateExpression=expression + " ADD attempt :one",
            ConditionExpression=f"attribute_exists(pk) AND ({condition})",
            ExpressionAttributeNames=_STATE,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if condition_failed(exc):
            return None
        raise StorageError(f"could not claim unit {unit} of batch {batch_id}") from exc
    return _from_item(answer["Attributes"])


def record_attempt_in_db(
    unit: UnitRecord,
    *,
    finished: dict[int, str],
    part_key: str | None,
    retries: dict[int, int],
    batch_deltas: dict[str, int],
) -> bool:
    """Ends the unit's current attempt: its finished lines and the batch counters change together, once.

    `finished` maps line index to "succeeded" or "failed". False when the attempt no longer owns the
    unit (its lease was taken over, or the unit was cancelled or expired meanwhile): nothing changes.
    """
    all_done = set(unit.finished) | set(finished)
    done = len(all_done) == unit.count
    values: dict[str, Any] = {
        ":running": value("running"),
        ":attempt": value(unit.attempt),
        ":next": value("done" if done else "pending"),
        ":zero": value(0),
    }
    expression = "SET #state = :next, lease_until = :zero"
    if not done:
        expression += ", retries = :retries"
        values[":retries"] = value({str(index): count for index, count in retries.items()})
    if part_key:
        expression += ", parts = list_append(if_not_exists(parts, :empty), :part)"
        values[":empty"] = value([])
        values[":part"] = value([part_key])
    if finished:
        expression += " ADD n_succeeded :succeeded, n_failed :failed"
        values[":succeeded"] = value(sum(1 for status in finished.values() if status == "succeeded"))
        values[":failed"] = value(sum(1 for status in finished.values() if status == "failed"))
        if not done:
            expression += ", finished :finished"
            values[":finished"] = value(set(finished))
    if done:
        # A done unit's lines are all in its parts; keeping the per-line bookkeeping would only make
        # every later read of the unit (items pages, finalize) larger.
        expression += " REMOVE finished, retries"
    unit_update = {
        "Update": {
            "TableName": _table(),
            "Key": to_attributes(keys.unit_key(unit.batch_id, unit.unit)),
            "UpdateExpression": expression,
            "ConditionExpression": "#state = :running AND attempt = :attempt",
            "ExpressionAttributeNames": _STATE,
            "ExpressionAttributeValues": values,
        }
    }
    items = [unit_update]
    if batch_deltas:
        items.append(counters_update(unit.batch_id, batch_deltas))
    return _transact(items, f"unit {unit.unit} of batch {unit.batch_id}")


def close_unit_in_db(unit: UnitRecord, *, to_state: str, from_states: tuple[str, ...], counter: str) -> bool:
    """Moves an unfinished unit to `cancelled` or `expired`; its unfinished lines count under `counter`.

    The condition on `attempt` makes a concurrent attempt's results (or this sweep) lose cleanly.
    """
    values = {f":from{n}": value(state) for n, state in enumerate(from_states)}
    values.update({":to": value(to_state), ":attempt": value(unit.attempt), ":one": value(1)})
    unit_update = {
        "Update": {
            "TableName": _table(),
            "Key": to_attributes(keys.unit_key(unit.batch_id, unit.unit)),
            "UpdateExpression": "SET #state = :to ADD attempt :one",
            "ConditionExpression": "attempt = :attempt AND #state IN ("
            + ", ".join(f":from{n}" for n in range(len(from_states)))
            + ")",
            "ExpressionAttributeNames": _STATE,
            "ExpressionAttributeValues": values,
        }
    }
    items = [unit_update, counters_update(unit.batch_id, {counter: len(unit.unfinished)})]
    return _transact(items, f"unit {unit.unit} of batch {unit.batch_id}")


def _transact(items: list[dict[str, Any]], what: str) -> bool:
    try:
        client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise StorageError(f"could not update {what}") from exc
    return True
