from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client
from batch_core.dal.codec import from_attributes, to_attributes
from batch_core.dal.listing import newest_first
from batch_core.errors import StorageError
from batch_core.models.file import StoredFile
from batch_core.settings import get_settings


def _table() -> str:
    return get_settings().table_name


def put_file_in_db(stored: StoredFile) -> None:
    item = {**stored.model_dump(), **keys.file_key(stored.id), **keys.tenant_file_listing(stored.tenant_id, stored.id)}
    try:
        client("dynamodb").put_item(TableName=_table(), Item=to_attributes(item))
    except ClientError as exc:
        raise StorageError(f"could not store file {stored.id}") from exc


def get_file_in_db(file_id: str) -> StoredFile | None:
    answer = client("dynamodb").get_item(TableName=_table(), Key=to_attributes(keys.file_key(file_id)))
    return StoredFile.model_validate(from_attributes(answer["Item"])) if "Item" in answer else None


def list_files_in_db(tenant_id: str, *, limit: int, before: str | None) -> list[StoredFile]:
    """A tenant's files, newest first, starting below the id `before` when given."""
    query = {**newest_first(keys.tenant_files_partition(tenant_id), before=before), "Limit": limit}
    items = client("dynamodb").query(**query)["Items"]
    return [StoredFile.model_validate(from_attributes(item)) for item in items]


def delete_file_in_db(file_id: str) -> None:
    client("dynamodb").delete_item(TableName=_table(), Key=to_attributes(keys.file_key(file_id)))
