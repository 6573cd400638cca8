from typing import Any

from batch_core.dal.codec import value
from batch_core.settings import get_settings


def newest_first(partition: str, *, before: str | None) -> dict[str, Any]:
    """A query of one listing partition of the `gsi1` index, newest first (ids sort by time),
    starting below the id `before` when given."""
    query: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :partition",
        "ExpressionAttributeValues": {":partition": value(partition)},
        "ScanIndexForward": False,
    }
    if before:
        query["KeyConditionExpression"] += " AND gsi1sk < :before"
        query["ExpressionAttributeValues"][":before"] = value(before)
    return query
