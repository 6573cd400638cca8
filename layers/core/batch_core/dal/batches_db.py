from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, from_json_text, to_attributes, to_json_text, value
from batch_core.dal.listing import newest_first
from batch_core.errors import InvalidTransition, StorageError
from batch_core.models.batch import Batch, RequestCounts
from batch_core.models.usage import Usage
from batch_core.settings import get_settings

_COUNTERS = ("total", "completed", "failed", "cancelled", "expired")
_TOKENS = ("input_tokens", "output_tokens")


def _table() -> str:
    return get_settings().table_name


def batch_ttl(expires_at: int) -> int:
    """When a batch's records expire: the retention period after its completion window ends."""
    return expires_at + get_settings().retention_days * 86400


def _to_item(batch: Batch) -> dict[str, Any]:
    data = batch.model_dump(exclude={"request_counts", "usage"})
    data["metadata"] = to_json_text(batch.metadata)
    data.update({f"n_{name}": getattr(batch.request_counts, name) for name in _COUNTERS})
    data.update({name: getattr(batch.usage, name) for name in _TOKENS})
    data["ttl"] = batch_ttl(batch.expires_at)
    data.update(keys.batch_key(batch.id))
    data.update(keys.tenant_listing(batch.tenant_id, batch.id))
    return to_attributes(data)


def _from_item(item: dict[str, Any]) -> Batch:
    data = from_attributes(item)
    data["metadata"] = from_json_text(data.get("metadata"))
    counts = RequestCounts(**{name: data.pop(f"n_{name}", 0) for name in _COUNTERS})
    tokens = {name: data.pop(name, 0) for name in _TOKENS}
    usage = Usage(**tokens, total_tokens=sum(tokens.values()))
    return Batch.model_validate({**data, "request_counts": counts, "usage": usage})


def put_new_batch_in_db(batch: Batch) -> None:
    try:
        client("dynamodb").put_item(
            TableName=_table(), Item=_to_item(batch), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as exc:
        raise StorageError(f"could not store batch {batch.id}") from exc


def get_batch_in_db(batch_id: str, *, consistent: bool = False) -> Batch | None:
    try:
        answer = client("dynamodb").get_item(
            TableName=_table(), Key=to_attributes(keys.batch_key(batch_id)), ConsistentRead=consistent
        )
    except ClientError as exc:
        raise StorageError(f"could not read batch {batch_id}") from exc
    return _from_item(answer["Item"]) if "Item" in answer else None


def list_batches_in_db(tenant_id: str, *, status: str | None, limit: int, before: str | None = None) -> list[Batch]:
    """A tenant's batches, newest first, optionally only those in one status."""
    query = newest_first(keys.tenant_partition(tenant_id), before=before)
    if status:
        query["FilterExpression"] = "#status = :status"
        query["ExpressionAttributeNames"] = {"#status": "status"}
        query["ExpressionAttributeValues"][":status"] = value(status)
    found: list[Batch] = []
    try:
        for page in client("dynamodb").get_paginator("query").paginate(**query):
            found.extend(_from_item(item) for item in page["Items"])
            if len(found) >= limit:
                break
    except ClientError as exc:
        raise StorageError(f"could not list the batches of tenant {tenant_id}") from exc
    return found[:limit]


def update_batch_in_db(
    batch_id: str, *, expected: tuple[str, ...], changes: dict[str, Any], removals: tuple[str, ...] = ()
) -> Batch:
    """Sets fields on a batch only while its status is one of `expected`; raises InvalidTransition otherwise."""
    names = {"#status": "status", **{f"#{name}": name for name in (*changes, *removals)}}
    values = {f":{name}": value(item) for name, item in changes.items()}
    values.update({f":expected{n}": value(status) for n, status in enumerate(expected)})
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in changes)
    if removals:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in removals)
    condition = "#status IN (" + ", ".join(f":expected{n}" for n in range(len(expected))) + ")"
    try:
        answer = client("dynamodb").update_item(
            TableName=_table(),
            Key=to_attributes(keys.batch_key(batch_id)),
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(pk) AND {condition}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if condition_failed(exc):
            raise InvalidTransition(f"batch {batch_id} is not {' or '.join(expected)}") from exc
        raise StorageError(f"could not update batch {batch_id}") from exc
    return _from_item(answer["Attributes"])


def claim_finisher_in_db(batch_id: str) -> bool:
    """True for exactly one caller: the one that may signal that every line is done."""
    try:
        client("dynamodb").update_item(
            TableName=_table(),
            Key=to_attributes(keys.batch_key(batch_id)),
            UpdateExpression="SET finisher_claimed = :yes",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(finisher_claimed)",
            ExpressionAttributeValues={":yes": value(True)},
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise StorageError(f"could not claim the finisher of batch {batch_id}") from exc
    return True


def counters_update(batch_id: str, deltas: dict[str, int]) -> dict[str, Any]:
    """A transaction item that adds to a batch's line counters (`completed`, `failed`, …) and token totals."""
    attribute = {name: name if name in _TOKENS else f"n_{name}" for name in deltas}
    return {
        "Update": {
            "TableName": _table(),
            "Key": to_attributes(keys.batch_key(batch_id)),
            "UpdateExpression": "ADD " + ", ".join(f"#{name} :{name}" for name in deltas),
            "ExpressionAttributeNames": {f"#{name}": attribute[name] for name in deltas},
            "ExpressionAttributeValues": {f":{name}": value(delta) for name, delta in deltas.items()},
        }
    }
