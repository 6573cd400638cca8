from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.listing import is_live
from batch_core.errors import StorageError
from batch_core.models.bucket_object import BucketObject
from batch_core.settings import get_settings


def _table() -> str:
    return get_settings().table_name


def _from_item(item: dict[str, Any]) -> BucketObject:
    return BucketObject.model_validate(from_attributes(item))


def put_object_in_db(
    tenant_id: str, stored: BucketObject, s3_key: str, *, new: bool, complete: bool = True, ttl: int | None = None
) -> bool:
    """Stores the object's record with where its bytes are; with `new`, False when the key is taken.

    An incomplete object is a presigned upload whose bytes have not arrived yet; it expires at `ttl`."""
    item = {
        **stored.model_dump(),
        "s3_key": s3_key,
        "complete": complete,
        "ttl": ttl,
        **keys.bucket_object_key(tenant_id, stored.bucketKey, stored.key),
    }
    condition = {"ConditionExpression": "attribute_not_exists(pk)"} if new else {}
    try:
        client("dynamodb").put_item(TableName=_table(), Item=to_attributes(item), **condition)
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise StorageError(f"could not store object {stored.key}") from exc
    return True


def complete_object_in_db(tenant_id: str, done: BucketObject, staging_key: str, s3_key: str) -> bool:
    """Points an incomplete object at its final bytes, once: False when it is complete already
    (or another completion of the same upload won)."""
    try:
        client("dynamodb").update_item(
            TableName=_table(),
            Key=to_attributes(keys.bucket_object_key(tenant_id, done.bucketKey, done.key)),
            UpdateExpression="SET #complete = :yes, s3_key = :key, #size = :size, updatedAt = :now REMOVE #ttl",
            ConditionExpression="#complete = :no AND s3_key = :staging",
            ExpressionAttributeNames={"#complete": "complete", "#size": "size", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":yes": value(True),
                ":no": value(False),
                ":key": value(s3_key),
                ":staging": value(staging_key),
                ":size": value(done.size),
                ":now": value(done.updatedAt),
            },
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise StorageError(f"could not complete object {done.key}") from exc
    return True


def get_object_in_db(tenant_id: str, bucket: str, key: str) -> tuple[BucketObject, str, bool] | None:
    """The object, the S3 key of its bytes, and whether they have arrived."""
    answer = client("dynamodb").get_item(
        TableName=_table(), Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key)), ConsistentRead=True
    )
    item = from_attributes(answer.get("Item", {}))
    if not item or not is_live(item):
        return None
    return BucketObject.model_validate(item), item["s3_key"], bool(item.get("complete", True))


def list_objects_in_db(tenant_id: str, bucket: str, *, limit: int, after_key: str | None) -> list[BucketObject]:
    """Complete objects by key: an upload still in progress has nothing to read yet."""
    query: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :bucket",
        "FilterExpression": "attribute_not_exists(#complete) OR #complete = :yes",
        "ExpressionAttributeNames": {"#complete": "complete"},
        "ExpressionAttributeValues": {":bucket": value(keys.bucket_partition(tenant_id, bucket)), ":yes": value(True)},
    }
    if after_key is not None:
        query["ExclusiveStartKey"] = to_attributes(keys.bucket_object_key(tenant_id, bucket, after_key))
    found: list[BucketObject] = []
    for page in client("dynamodb").get_paginator("query").paginate(**query, PaginationConfig={"PageSize": limit}):
        found.extend(_from_item(item) for item in page["Items"])
        if len(found) >= limit:
            break
    return found[:limit]


def delete_object_in_db(tenant_id: str, bucket: str, key: str) -> None:
    client("dynamodb").delete_item(
        TableName=_table(), Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key))
    )
