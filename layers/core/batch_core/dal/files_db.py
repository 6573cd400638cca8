from itertools import islice
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.listing import in_time_order, is_live, only_live, read_items
from batch_core.models.file import FileCheck, FileStatus, StoredFile
from batch_core.settings import Settings


class FileStore:
    """Records of the OpenAI surface's files, listed per tenant newest first; a record expires with its file."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._aws = aws

    def put_item(self, stored: StoredFile) -> dict[str, Any]:
        """A transaction item that stores the file's record, for a store that writes it with its own."""
        item = {
            **stored.model_dump(),
            "ttl": stored.expires_at,
            **keys.file_key(stored.id),
            **keys.tenant_file_listing(stored.tenant_id, stored.id),
        }
        return {"Put": {"TableName": self.table_name, "Item": to_attributes(item)}}

    def put(self, stored: StoredFile) -> None:
        try:
            self._dynamodb.put_item(**self.put_item(stored)["Put"])
        except AWS_ERRORS as exc:
            raise storage_error(f"could not store file {stored.id}", exc) from exc

    def get(self, file_id: str) -> StoredFile | None:
        try:
            answer = self._dynamodb.get_item(TableName=self.table_name, Key=to_attributes(keys.file_key(file_id)))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read file {file_id}", exc) from exc
        item = from_attributes(answer.get("Item", {}))
        return StoredFile.model_validate(item) if item and is_live(item) else None

    def checked(
        self, file_id: str, status: FileStatus, details: str | None = None, check: FileCheck | None = None
    ) -> None:
        """Records the end of the file's check; nothing when the file was deleted meanwhile."""
        changes = {"status": status, "status_details": details, "check": check.model_dump() if check else None}
        given = {attribute: found for attribute, found in changes.items() if found is not None}
        conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.file_key(file_id)),
                UpdateExpression="SET " + ", ".join(f"#{attribute} = :{attribute}" for attribute in given),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={f"#{attribute}": attribute for attribute in given},
                ExpressionAttributeValues={f":{attribute}": value(found) for attribute, found in given.items()},
            ),
            f"record the check of file {file_id}",
        )

    def list(
        self, tenant_id: str, *, limit: int, after: str | None, oldest_first: bool = False, purpose: str | None = None
    ) -> list[StoredFile]:
        """A tenant's live files in time order (newest first unless `oldest_first`), past the id `after` when
        given, only those of `purpose` when given."""
        partition = keys.tenant_files_partition(tenant_id)
        query = only_live(in_time_order(self.table_name, partition, after=after, oldest_first=oldest_first))
        if purpose:
            query["FilterExpression"] = f"({query['FilterExpression']}) AND purpose = :purpose"
            query["ExpressionAttributeValues"][":purpose"] = value(purpose)
        items = read_items(self._dynamodb, query, f"the files of tenant {tenant_id}", page_size=limit)
        return [StoredFile.model_validate(from_attributes(item)) for item in islice(items, limit)]

    def delete(self, file_id: str) -> None:
        try:
            self._dynamodb.delete_item(TableName=self.table_name, Key=to_attributes(keys.file_key(file_id)))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not delete file {file_id}", exc) from exc

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")
