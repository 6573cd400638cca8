import hashlib

from batch_core.dal import keys
from batch_core.dal.clients import client
from batch_core.dal.codec import from_attributes, to_attributes
from batch_core.settings import get_settings


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def put_api_key_in_db(api_key: str, tenant_id: str) -> None:
    """Stores the key's SHA-256 hash, never the key itself."""
    item = {**keys.api_key_key(hash_api_key(api_key)), "tenant_id": tenant_id, "active": True}
    client("dynamodb").put_item(TableName=get_settings().table_name, Item=to_attributes(item))


def find_tenant_in_db(api_key: str) -> str | None:
    answer = client("dynamodb").get_item(
        TableName=get_settings().table_name, Key=to_attributes(keys.api_key_key(hash_api_key(api_key)))
    )
    if "Item" not in answer:
        return None
    item = from_attributes(answer["Item"])
    return item["tenant_id"] if item.get("active") else None
