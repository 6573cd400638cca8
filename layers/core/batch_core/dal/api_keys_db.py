import hashlib
import time
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.listing import read_items
from batch_core.settings import Settings


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ApiKeyStore:
    """API keys by their SHA-256 hash (never the key itself), each naming its tenant; all listed together."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._aws = aws

    def put(self, api_key: str, tenant_id: str) -> str:
        """Stores the key's hash for the tenant; returns the hash."""
        key_hash = hash_api_key(api_key)
        item = {
            **keys.api_key_key(key_hash),
            **keys.api_key_listing(tenant_id, key_hash),
            "key_hash": key_hash,
            "tenant_id": tenant_id,
            "active": True,
            "created_at": int(time.time()),
        }
        try:
            self._dynamodb.put_item(TableName=self.table_name, Item=to_attributes(item))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not store the API key {key_hash[:12]}", exc) from exc
        return key_hash

    def find_tenant(self, api_key: str) -> str | None:
        """The tenant of an active key; None for an unknown or revoked one."""
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.api_key_key(hash_api_key(api_key)))
            )
        except AWS_ERRORS as exc:
            raise storage_error("could not read an API key", exc) from exc
        if "Item" not in answer:
            return None
        item = from_attributes(answer["Item"])
        return item["tenant_id"] if item.get("active") else None

    def list(self) -> list[dict[str, Any]]:
        """Every key's hash, tenant, state and creation time, by tenant."""
        query = {
            "TableName": self.table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :keys",
            "ExpressionAttributeValues": {":keys": value(keys.API_KEYS_PARTITION)},
        }
        fields = ("key_hash", "tenant_id", "active", "created_at")
        items = read_items(self._dynamodb, query, "the API keys")
        return [{name: from_attributes(item).get(name) for name in fields} for item in items]

    def revoke(self, key_hash: str) -> bool:
        """False when no key has this hash."""
        revoked = conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.api_key_key(key_hash)),
                UpdateExpression="SET active = :no",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":no": value(False)},
            ),
            f"revoke the API key {key_hash[:12]}",
        )
        return revoked is not None

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")
