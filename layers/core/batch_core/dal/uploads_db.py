from botocore.exceptions import ClientError

from batch_core.dal import keys
from batch_core.dal.clients import client, condition_failed
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.errors import InvalidTransition
from batch_core.models.upload import Upload
from batch_core.settings import get_settings


def put_upload_in_db(upload: Upload) -> None:
    item = {**upload.model_dump(), **keys.upload_key(upload.id), "ttl": upload.expires_at + 86400}
    client("dynamodb").put_item(TableName=get_settings().table_name, Item=to_attributes(item))


def get_upload_in_db(upload_id: str) -> Upload | None:
    answer = client("dynamodb").get_item(
        TableName=get_settings().table_name, Key=to_attributes(keys.upload_key(upload_id)), ConsistentRead=True
    )
    return Upload.model_validate(from_attributes(answer["Item"])) if "Item" in answer else None


def end_upload_in_db(upload_id: str, status: str, file_id: str | None = None) -> None:
    """Ends a pending upload once: completed (with its file) or cancelled."""
    try:
        client("dynamodb").update_item(
            TableName=get_settings().table_name,
            Key=to_attributes(keys.upload_key(upload_id)),
            UpdateExpression="SET #status = :status, file_id = :file",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": value(status), ":file": value(file_id), ":pending": value("pending")},
        )
    except ClientError as exc:
        if condition_failed(exc):
            raise InvalidTransition(f"upload {upload_id} is no longer pending") from exc
        raise
