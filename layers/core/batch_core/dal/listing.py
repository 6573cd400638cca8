import time
from collections.abc import Iterator
from typing import Any

from batch_core.dal.clients import AWS_ERRORS, storage_error
from batch_core.dal.codec import value


def newest_first(table_name: str, partition: str, *, before: str | None) -> dict[str, Any]:
    """A query of one listing partition of the `gsi1` index, newest first (ids sort by time),
    starting below the id `before` when given."""
    return in_time_order(table_name, partition, after=before, oldest_first=False)


def in_time_order(table_name: str, partition: str, *, after: str | None, oldest_first: bool) -> dict[str, Any]:
    """A query of one listing partition of the `gsi1` index in time order (ids sort by time), either way,
    starting past the id `after` (in that order) when given."""
    query: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :partition",
        "ExpressionAttributeValues": {":partition": value(partition)},
        "ScanIndexForward": oldest_first,
    }
    if after:
        query["KeyConditionExpression"] += f" AND gsi1sk {'>' if oldest_first else '<'} :after"
        query["ExpressionAttributeValues"][":after"] = value(after)
    return query


# DynamoDB deletes expired records up to days late; until then they read as gone, like their bytes.
def only_live(query: dict[str, Any]) -> dict[str, Any]:
    """The query, keeping only records whose `ttl` has not passed."""
    query["FilterExpression"] = "attribute_not_exists(#ttl) OR #ttl > :now"
    query.setdefault("ExpressionAttributeNames", {})["#ttl"] = "ttl"
    query.setdefault("ExpressionAttributeValues", {})[":now"] = value(int(time.time()))
    return query


def is_live(item: dict[str, Any]) -> bool:
    """A record read with get_item counts only until its `ttl`."""
    return item.get("ttl") is None or item["ttl"] > time.time()


def read_items(dynamodb: Any, query: dict[str, Any], what: str, *, page_size: int | None = None) -> Iterator[Any]:
    """Every item the query finds, a page at a time as the caller reads on; a failed page raises StorageError."""
    config = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    try:
        for page in dynamodb.get_paginator("query").paginate(**query, **config):
            yield from page["Items"]
    except AWS_ERRORS as exc:
        raise storage_error(f"could not read {what}", exc) from exc
