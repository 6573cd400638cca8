import contextlib
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.files_db import FileStore
from batch_core.errors import InvalidTransition
from batch_core.models.file import StoredFile
from batch_core.models.upload import Upload

# A pending upload nobody is completing: never claimed, or claimed by a completion that died
# (a claim lasts `claim_seconds`, longer than the API function can run).
_UNCLAIMED = "#status = :pending AND (attribute_not_exists(claim) OR claimed_at < :stale)"


class UploadStore:
    """Records of the OpenAI surface's uploads; completing one stores its file's record in the same write."""

    def __init__(self, aws: AwsClients, files: FileStore):
        self.table_name = files.table_name
        self._aws = aws
        self._files = files

    def put(self, upload: Upload) -> None:
        item = {**upload.model_dump(), **keys.upload_key(upload.id), "ttl": upload.expires_at + 86400}
        try:
            self._dynamodb.put_item(TableName=self.table_name, Item=to_attributes(item))
        except AWS_ERRORS as exc:
            raise storage_error(f"could not store upload {upload.id}", exc) from exc

    def get(self, upload_id: str) -> Upload | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.upload_key(upload_id)), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read upload {upload_id}", exc) from exc
        return Upload.model_validate(from_attributes(answer["Item"])) if "Item" in answer else None

    def claim(self, upload_id: str, claim: str, now: int, claim_seconds: int) -> None:
        """Makes one caller the upload's completer; every other caller gets InvalidTransition."""
        self._update(
            upload_id,
            "SET claim = :claim, claimed_at = :now",
            _UNCLAIMED,
            {":claim": claim, ":now": now, ":stale": now - claim_seconds},
        )

    def release(self, upload_id: str, claim: str) -> None:
        """Gives a failed completion's claim back, so the client can complete again; a claim that lapsed
        and was taken by another completion is left to it."""
        with contextlib.suppress(InvalidTransition):
            self._update(
                upload_id, "REMOVE claim, claimed_at", "#status = :pending AND claim = :claim", {":claim": claim}
            )

    def finish(self, upload_id: str, claim: str, stored: StoredFile) -> None:
        """Completes the upload and stores its file's record together, only for the claim's holder."""
        completed = self._update_item(
            upload_id,
            "SET #status = :completed, file_id = :file REMOVE claim, claimed_at",
            "#status = :pending AND claim = :claim",
            {":completed": "completed", ":file": stored.id, ":claim": claim},
        )
        # The claim as the request token: botocore's own retry of a transaction that did commit succeeds
        # again instead of failing its condition.
        written = conditional_write(
            lambda: self._dynamodb.transact_write_items(
                TransactItems=[{"Update": completed}, self._files.put_item(stored)], ClientRequestToken=claim
            ),
            f"complete upload {upload_id}",
        )
        if written is None:
            raise InvalidTransition(f"upload {upload_id} is no longer being completed by this request")

    def cancel(self, upload_id: str, now: int, claim_seconds: int) -> None:
        """Cancels a pending upload that nobody is completing."""
        self._update(
            upload_id,
            "SET #status = :cancelled",
            _UNCLAIMED,
            {":cancelled": "cancelled", ":stale": now - claim_seconds},
        )

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")

    def _update_item(self, upload_id: str, expression: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Key": to_attributes(keys.upload_key(upload_id)),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                name: value(item) for name, item in {**values, ":pending": "pending"}.items()
            },
        }

    def _update(self, upload_id: str, expression: str, condition: str, values: dict[str, Any]) -> None:
        written = conditional_write(
            lambda: self._dynamodb.update_item(**self._update_item(upload_id, expression, condition, values)),
            f"update upload {upload_id}",
        )
        if written is None:
            raise InvalidTransition(f"upload {upload_id} is no longer pending, or is being completed")
