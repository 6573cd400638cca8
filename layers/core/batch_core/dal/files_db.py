from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client
from batch_core.dal.codec import from_attributes, to_attributes
from batch_core.dal.listing import is_live, newest_first, only_live
from batch_core.errors import StorageError
from batch_core.models.file import StoredFile
from batch_core.settings import get_settings


def _table() -> str:
    return get_settings().table_name


def file_put(stored: StoredFile) -> dict[str, Any]:
    """A transaction item that stores the file's record; the record expires with the file."""
    item = {
        **stored.model_dump(),
        "ttl": stored.expires_at,
        **keys.file_key(stored.id),
        **keys.tenant_file_listing(stored.tenant_id, stored.id),
    }
    return {"Put": {"TableName": _table(), "Item": to_attributes(item)}}


def put_file_in_db(stored: StoredFile) -> None:
    try:
        client("dynamodb").put_item(**file_put(stored)["Put"])
    except ClientError as exc:
        raise StorageError(f"could not store file {stored.id}") from exc


def get_file_in_db(file_id: str) -> StoredFile | None:
    try:
        answer = client("dynamodb").get_item(TableName=_table(), Key=to_attributes(keys.file_key(file_id)))
    except ClientError as exc:
        raise StorageError(f"could not read file {file_id}") from exc
    item = from_attributes(answer.get("Item", {}))
    return StoredFile.model_validate(item) if item and is_live(item) else None


def list_files_in_db(tenant_id: str, *, limit: int, before: str | None) -> list[StoredFile]:
    """A tenant's live files, newest first, starting below the id `before` when given."""
    query = only_live(newest_first(keys.tenant_files_partition(tenant_id), before=before))
    found: list[StoredFile] = []
    pages = client("dynamodb").get_paginator("query").paginate(**query, PaginationConfig={"PageSize": limit})
    try:
        for page in pages:
            found.extend(StoredFile.model_validate(from_attributes(item)) for item in page["Items"])
            if len(found) >= limit:
                break
    except ClientError as exc:
        raise StorageError(f"could not list the files of tenant {tenant_id}") from exc
    return found[:limit]


def delete_file_in_db(file_id: str) -> None:
    client("dynamodb").delete_item(TableName=_table(), Key=to_attributes(keys.file_key(file_id)))
