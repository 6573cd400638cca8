"""The DynamoDB key schema: the only place that knows how records are keyed."""

BATCH_SK = "BATCH"
API_KEYS_PARTITION = "APIKEYS"
IDEMPOTENCY_PARTITION = "IDEMPOTENCY"
UNIT_SK_PREFIX = "UNIT#"


def batch_key(batch_id: str) -> dict[str, str]:
    return {"pk": f"BATCH#{batch_id}", "sk": BATCH_SK}


def unit_key(batch_id: str, unit: int) -> dict[str, str]:
    return {"pk": f"BATCH#{batch_id}", "sk": f"{UNIT_SK_PREFIX}{unit:06d}"}


def units_partition(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def block_key(batch_id: str, block: int) -> dict[str, str]:
    """A batch's blocks and its parts have partitions of their own, so reading them never walks its units."""
    return {"pk": blocks_partition(batch_id), "sk": f"BLOCK#{block:06d}"}


def blocks_partition(batch_id: str) -> str:
    return f"BATCH#{batch_id}#BLOCKS"


def part_key(batch_id: str, first_block: int) -> dict[str, str]:
    return {"pk": parts_partition(batch_id), "sk": f"PART#{first_block:06d}"}


def parts_partition(batch_id: str) -> str:
    return f"BATCH#{batch_id}#PARTS"


def tenant_listing(tenant_id: str, batch_id: str) -> dict[str, str]:
    """GSI keys: batch ids sort by creation time, so the index lists a tenant's batches in time order."""
    return {"gsi1pk": f"TENANT#{tenant_id}", "gsi1sk": batch_id}


def tenant_partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def api_key_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"}


def api_key_listing(tenant_id: str, key_hash: str) -> dict[str, str]:
    """GSI keys that list every API key, by tenant."""
    return {"gsi1pk": API_KEYS_PARTITION, "gsi1sk": f"{tenant_id}#{key_hash}"}


def file_key(file_id: str) -> dict[str, str]:
    return {"pk": f"FILE#{file_id}", "sk": "FILE"}


def tenant_files_partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#FILES"


def tenant_file_listing(tenant_id: str, file_id: str) -> dict[str, str]:
    """GSI keys: file ids sort by creation time, like batch ids."""
    return {"gsi1pk": tenant_files_partition(tenant_id), "gsi1sk": file_id}


def bucket_partition(tenant_id: str, bucket: str) -> str:
    return f"BUCKET#{tenant_id}#{bucket}"


def bucket_object_key(tenant_id: str, bucket: str, key: str) -> dict[str, str]:
    """A console bucket's objects share a partition, sorted by key, so listing pages by key."""
    return {"pk": bucket_partition(tenant_id, bucket), "sk": f"OBJECT#{key}"}


def upload_key(upload_id: str) -> dict[str, str]:
    return {"pk": f"UPLOAD#{upload_id}", "sk": "UPLOAD"}


def tenant_buckets_partition(tenant_id: str) -> str:
    return f"BUCKETS#{tenant_id}"


def bucket_key(tenant_id: str, bucket: str) -> dict[str, str]:
    """A tenant's buckets share a partition, sorted by name, so listing them is one query."""
    return {"pk": tenant_buckets_partition(tenant_id), "sk": f"BUCKET#{bucket}"}


def limit_key(route: str, model: str) -> dict[str, str]:
    return {"pk": f"LIMIT#{route}#{model}", "sk": "LIMIT"}


def quota_key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}#QUOTA", "sk": "QUOTA"}


def webhook_key(tenant_id: str, endpoint_id: str) -> dict[str, str]:
    """A tenant's webhook endpoints share a partition, so listing them is one query."""
    return {"pk": tenant_webhooks_partition(tenant_id), "sk": f"WEBHOOK#{endpoint_id}"}


def tenant_webhooks_partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#WEBHOOKS"


def delivery_key(endpoint_id: str, event_id: str) -> dict[str, str]:
    """An endpoint's deliveries share a partition, sorted by event id, which sorts by time."""
    return {"pk": deliveries_partition(endpoint_id), "sk": f"DELIVERY#{event_id}"}


def deliveries_partition(endpoint_id: str) -> str:
    return f"WEBHOOK#{endpoint_id}"
