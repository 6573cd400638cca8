import hashlib
import time
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.errors import StorageError
from batch_core.settings import get_settings


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def put_api_key_in_db(api_key: str, tenant_id: str) -> str:
    """Stores the key's SHA-256 hash, never the key itself; returns the hash."""
    key_hash = hash_api_key(api_key)
    item = {
        **keys.api_key_key(key_hash),
        **keys.api_key_listing(tenant_id, key_hash),
        "key_hash": key_hash,
        "tenant_id": tenant_id,
        "active": True,
        "created_at": int(time.time()),
    }
    client("dynamodb").put_item(TableName=get_settings().table_name, Item=to_attributes(item))
    return key_hash


def find_tenant_in_db(api_key: str) -> str | None:
    try:
        answer = client("dynamodb").get_item(
            TableName=get_settings().table_name, Key=to_attributes(keys.api_key_key(hash_api_key(api_key)))
        )
    except ClientError as exc:
        raise StorageError("could not read the api key") from exc
    if "Item" not in answer:
        return None
    item = from_attributes(answer["Item"])
    return item["tenant_id"] if item.get("active") else None


def list_api_keys_in_db() -> list[dict[str, Any]]:
    """Every key's hash, tenant, state and creation time, by tenant."""
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=get_settings().table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :keys",
            ExpressionAttributeValues={":keys": value(keys.API_KEYS_PARTITION)},
        )
    )
    fields = ("key_hash", "tenant_id", "active", "created_at")
    try:
        return [{name: from_attributes(item).get(name) for name in fields} for page in pages for item in page["Items"]]
    except ClientError as exc:
        raise StorageError("could not list the api keys") from exc


def revoke_api_key_in_db(key_hash: str) -> bool:
    """False when no key has this hash."""
    try:
        client("dynamodb").update_item(
            TableName=get_settings().table_name,
            Key=to_attributes(keys.api_key_key(key_hash)),
            UpdateExpression="SET active = :no",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":no": value(False)},
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
