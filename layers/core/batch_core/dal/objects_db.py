import time
import uuid
from itertools import islice
from typing import Any, NamedTuple

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, from_json_text, to_attributes, to_json_text, value
from batch_core.dal.listing import is_live, read_items
from batch_core.models.bucket_object import Bucket, BucketObject
from batch_core.settings import Settings


class FoundObject(NamedTuple):
    """A console object, the S3 key of its bytes, and whether they have arrived."""

    stored: BucketObject
    s3_key: str
    complete: bool


class ObjectStore:
    """The console's buckets and the records of their objects: a tenant's buckets share a partition, as do
    a bucket's objects, sorted by key."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._aws = aws

    def put_bucket(self, tenant_id: str, bucket: str, now: str) -> None:
        """Records the bucket on its first object and touches it on every later one: one write either way."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.bucket_key(tenant_id, bucket)),
                UpdateExpression="SET #id = if_not_exists(#id, :id), createdAt = if_not_exists(createdAt, :now), "
                "updatedAt = :now, #key = :bucket",
                ExpressionAttributeNames={"#id": "id", "#key": "key"},
                ExpressionAttributeValues={
                    ":id": value(uuid.uuid4().hex),
                    ":now": value(now),
                    ":bucket": value(bucket),
                },
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not record bucket {bucket}", exc) from exc

    def get_bucket(self, tenant_id: str, bucket: str) -> Bucket | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.bucket_key(tenant_id, bucket))
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read bucket {bucket}", exc) from exc
        return _bucket(answer["Item"]) if "Item" in answer else None

    def list_buckets(self, tenant_id: str) -> list[Bucket]:
        query = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :buckets",
            "ExpressionAttributeValues": {":buckets": value(keys.tenant_buckets_partition(tenant_id))},
        }
        return [_bucket(item) for item in read_items(self._dynamodb, query, f"the buckets of tenant {tenant_id}")]

    def put(
        self,
        tenant_id: str,
        stored: BucketObject,
        s3_key: str,
        *,
        new: bool,
        complete: bool = True,
        ttl: int | None = None,
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
        written = conditional_write(
            lambda: self._dynamodb.put_item(TableName=self.table_name, Item=to_attributes(item), **condition),
            f"store object {stored.key}",
        )
        return written is not None

    def complete(self, tenant_id: str, done: BucketObject, staging_key: str, s3_key: str) -> bool:
        """Points an incomplete object at its final bytes, once: False when it is complete already
        (or another completion of the same upload won)."""
        completed = conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
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
            ),
            f"complete object {done.key}",
        )
        return completed is not None

    def get(self, tenant_id: str, bucket: str, key: str) -> FoundObject | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name,
                Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key)),
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read object {key}", exc) from exc
        item = from_attributes(answer.get("Item", {}))
        if not item or not is_live(item):
            return None
        return FoundObject(_object(item), item["s3_key"], bool(item.get("complete", True)))

    def list(
        self, tenant_id: str, bucket: str, *, limit: int, after_key: str | None, search: str | None = None
    ) -> list[BucketObject]:
        """Up to `limit` complete objects by key after `after_key` (an upload still in progress has nothing to
        read yet); with `search`, only those whose name or key holds it."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :bucket",
            "FilterExpression": "(attribute_not_exists(#complete) OR #complete = :yes)",
            "ExpressionAttributeNames": {"#complete": "complete"},
            "ExpressionAttributeValues": {
                ":bucket": value(keys.bucket_partition(tenant_id, bucket)),
                ":yes": value(True),
            },
        }
        if search:
            query["FilterExpression"] += " AND contains(search_text, :search)"
            query["ExpressionAttributeValues"][":search"] = value(search.lower())
        if after_key is not None:
            query["ExclusiveStartKey"] = to_attributes(keys.bucket_object_key(tenant_id, bucket, after_key))
        items = read_items(self._dynamodb, query, f"the objects of bucket {bucket}", page_size=limit)
        return [_object(from_attributes(item)) for item in islice(items, limit)]

    def delete(self, tenant_id: str, bucket: str, key: str) -> None:
        try:
            self._dynamodb.delete_item(
                TableName=self.table_name, Key=to_attributes(keys.bucket_object_key(tenant_id, bucket, key))
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not delete object {key}", exc) from exc

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")


def search_text(stored: BucketObject) -> str:
    """What a search matches: the file name and the key, lower-cased so the match ignores case."""
    return f"{stored.fileName}\n{stored.key}".lower()


def _object(data: dict[str, Any]) -> BucketObject:
    return BucketObject.model_validate({**data, "metadata": from_json_text(data.get("metadata"))})


def _bucket(item: dict[str, Any]) -> Bucket:
    data = from_attributes(item)
    return Bucket.model_validate({**data, "name": data["key"]})
