import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, from_json_text, to_attributes, to_json_text, value
from batch_core.dal.listing import is_live
from batch_core.errors import StorageError
from batch_core.models.bucket_object import Bucket, BucketObject
from batch_core.settings import get_settings


def _table() -> str:
    return get_settings().table_name


def _object(data: dict[str, Any]) -> BucketObject:
    return BucketObject.model_validate({**data, "metadata": from_json_text(data.get("metadata"))})


def put_object_in_db(
    tenant_id: str, stored: BucketObject, s3_key: str, *, new: bool, complete: bool = True, ttl: int | None = None
) -> bool:
    """Stores the object's record with where its bytes are; with `new`, False when the key is taken.

    An incomplete object is a presigned upload whose bytes have not arrived yet; it expires at `ttl`."""
    item = {
        **stored.model_dump(),
        "metadata": to_json_text(stored.metadata),
        "search_text": search_text(stored),
        "s3_key": s3_key,
        "complete": complete,
        "ttl": ttl,
        **keys.bucket_object_key(tenant_id, stored.bucketKey, stored.key),
    }
    # An upload abandoned past its ttl reads as gone, so its key is free again before DynamoDB deletes it.
    condition = (
        {
            "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": {":now": value(int(time.time()))},
        }
        if new
        else {}
    )
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
    try:
        answer = client("dynamodb").get_item(
            TableName=_table(), Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key)), ConsistentRead=True
        )
    except ClientError as exc:
        raise StorageError(f"could not read object {key}") from exc
    item = from_attributes(answer.get("Item", {}))
    if not item or not is_live(item):
        return None
    return _object(item), item["s3_key"], bool(item.get("complete", True))


def search_text(stored: BucketObject) -> str:
    """What a search matches: the file name and the key, lower-cased so the match ignores case."""
    return f"{stored.fileName}\n{stored.key}".lower()


def list_objects_in_db(
    tenant_id: str, bucket: str, *, limit: int, after_key: str | None, search: str | None = None
) -> list[BucketObject]:
    """Up to `limit` complete objects by key after `after_key` (an upload still in progress has nothing to read
    yet); with `search`, only those whose name or key holds it."""
    query: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :bucket",
        "FilterExpression": "(attribute_not_exists(#complete) OR #complete = :yes)",
        "ExpressionAttributeNames": {"#complete": "complete"},
        "ExpressionAttributeValues": {":bucket": value(keys.bucket_partition(tenant_id, bucket)), ":yes": value(True)},
    }
    if search:
        query["FilterExpression"] += " AND contains(search_text, :search)"
        query["ExpressionAttributeValues"][":search"] = value(search.lower())
    if after_key is not None:
        query["ExclusiveStartKey"] = to_attributes(keys.bucket_object_key(tenant_id, bucket, after_key))
    found: list[BucketObject] = []
    pages = client("dynamodb").get_paginator("query").paginate(**query, PaginationConfig={"PageSize": limit})
    try:
        for page in pages:
            found.extend(_object(from_attributes(item)) for item in page["Items"])
            if len(found) >= limit:
                break
    except ClientError as exc:
        raise StorageError(f"could not list the objects of bucket {bucket}") from exc
    return found[:limit]


def delete_object_in_db(tenant_id: str, bucket: str, key: str) -> None:
    client("dynamodb").delete_item(
        TableName=_table(), Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key))
    )


def put_bucket_in_db(tenant_id: str, bucket: str, now: str) -> None:
    """Records the bucket on its first object and touches it on every later one: one write either way."""
    try:
        client("dynamodb").update_item(
            TableName=_table(),
            Key=to_attributes(keys.bucket_key(tenant_id, bucket)),
            UpdateExpression="SET #id = if_not_exists(#id, :id), createdAt = if_not_exists(createdAt, :now), "
            "updatedAt = :now, #key = :bucket",
            ExpressionAttributeNames={"#id": "id", "#key": "key"},
            ExpressionAttributeValues={":id": value(uuid.uuid4().hex), ":now": value(now), ":bucket": value(bucket)},
        )
    except ClientError as exc:
        raise StorageError(f"could not record bucket {bucket}") from exc


def get_bucket_in_db(tenant_id: str, bucket: str) -> Bucket | None:
    try:
        answer = client("dynamodb").get_item(TableName=_table(), Key=to_attributes(keys.bucket_key(tenant_id, bucket)))
    except ClientError as exc:
        raise StorageError(f"could not read bucket {bucket}") from exc
    return _bucket(answer["Item"]) if "Item" in answer else None


def list_buckets_in_db(tenant_id: str) -> list[Bucket]:
    query = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :buckets",
        "ExpressionAttributeValues": {":buckets": value(keys.tenant_buckets_partition(tenant_id))},
    }
    pages = client("dynamodb").get_paginator("query").paginate(**query)
    try:
        return [_bucket(item) for page in pages for item in page["Items"]]
    except ClientError as exc:
        raise StorageError(f"could not list the buckets of tenant {tenant_id}") from exc


def _bucket(item: dict[str, Any]) -> Bucket:
    data = from_attributes(item)
    return Bucket.model_validate({**data, "name": data["key"]})
