from batch_core.dal.clients import AWS_ERRORS, AwsClients, storage_error
from batch_core.models.file import FileToCheck
from batch_core.settings import Settings


class FileCheckQueue:
    """The SQS queue of uploaded inputs to check, one message a file."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.queue_url = settings.file_check_queue_url
        self._aws = aws

    def send(self, file_id: str) -> None:
        body = FileToCheck(file_id=file_id).model_dump_json()
        try:
            self._aws.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not queue the check of file {file_id}", exc) from exc
