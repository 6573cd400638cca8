import contextlib
from typing import Any

from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.files_db import file_put
from batch_core.errors import InvalidTransition, StorageError
from batch_core.models.file import StoredFile
from batch_core.models.upload import Upload
from batch_core.settings import get_settings

# A pending upload nobody is completing: never claimed, or claimed by a completion that died
# (a claim lasts `claim_seconds`, longer than the API function can run).
_UNCLAIMED = "#status = :pending AND (attribute_not_exists(claim) OR claimed_at < :stale)"


def _table() -> str:
    return get_settings().table_name


def put_upload_in_db(upload: Upload) -> None:
    item = {**upload.model_dump(), **keys.upload_key(upload.id), "ttl": upload.expires_at + 86400}
    client("dynamodb").put_item(TableName=_table(), Item=to_attributes(item))


def get_upload_in_db(upload_id: str) -> Upload | None:
    try:
        answer = client("dynamodb").get_item(
            TableName=_table(), Key=to_attributes(keys.upload_key(upload_id)), ConsistentRead=True
        )
    except ClientError as exc:
        raise StorageError(f"could not read upload {upload_id}") from exc
    return Upload.model_validate(from_attributes(answer["Item"])) if "Item" in answer else None


def claim_upload_in_db(upload_id: str, claim: str, now: int, claim_seconds: int) -> None:
    """Makes one caller the upload's completer; every other caller gets InvalidTransition."""
    _update(
        upload_id,
        "SET claim = :claim, claimed_at = :now",
        _UNCLAIMED,
        {":claim": claim, ":now": now, ":stale": now - claim_seconds},
    )


def release_upload_in_db(upload_id: str, claim: str) -> None:
    """Gives a failed completion's claim back, so the client can complete again; a claim that lapsed
    and was taken by another completion is left to it."""
    with contextlib.suppress(InvalidTransition):
        _update(upload_id, "REMOVE claim, claimed_at", "#status = :pending AND claim = :claim", {":claim": claim})


def finish_upload_in_db(upload_id: str, claim: str, stored: StoredFile) -> None:
    """Completes the upload and stores its file's record together, only for the claim's holder."""
    completed = _update_item(
        upload_id,
        "SET #status = :completed, file_id = :file REMOVE claim, claimed_at",
        "#status = :pending AND claim = :claim",
        {":completed": "completed", ":file": stored.id, ":claim": claim},
    )
    try:
        # The claim as the request token: botocore's own retry of a transaction that did commit succeeds again
        # instead of failing its condition.
        client("dynamodb").transact_write_items(
            TransactItems=[{"Update": completed}, file_put(stored)], ClientRequestToken=claim
        )
    except ClientError as exc:
        if condition_failed(exc):
            raise InvalidTransition(f"upload {upload_id} is no longer being completed by this request") from exc
        raise StorageError(f"could not complete upload {upload_id}") from exc


def cancel_upload_in_db(upload_id: str, now: int, claim_seconds: int) -> None:
    """Cancels a pending upload that nobody is completing."""
    _update(
        upload_id, "SET #status = :cancelled", _UNCLAIMED, {":cancelled": "cancelled", ":stale": now - claim_seconds}
    )


def _update_item(upload_id: str, expression: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "TableName": _table(),
        "Key": to_attributes(keys.upload_key(upload_id)),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {name: value(item) for name, item in {**values, ":pending": "pending"}.items()},
    }


def _update(upload_id: str, expression: str, condition: str, values: dict[str, Any]) -> None:
    try:
        client("dynamodb").update_item(**_update_item(upload_id, expression, condition, values))
    except ClientError as exc:
        if condition_failed(exc):
            raise InvalidTransition(f"upload {upload_id} is no longer pending, or is being completed") from exc
        raise StorageError(f"could not update upload {upload_id}") from exc
