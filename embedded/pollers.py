"""Lambda's SQS event source mapping in miniature: receive, invoke, delete what succeeded."""

import hashlib
from collections.abc import Callable
from typing import Any

import boto3

from embedded.lambdas import HandlerError


class QueuePoller:
    def __init__(
        self,
        name: str,
        queue_url: str,
        queue_arn: str,
        invoke: Callable[[dict[str, Any]], Any],
        batch_size: int,
        concurrency: int,
        region: str,
    ):
        self.name = name
        self.concurrency = concurrency
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.invoke = invoke
        self.batch_size = batch_size
        self.region = region
        self.sqs = boto3.client("sqs", region_name=region)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Delivers one batch; returns how many messages it held. Failed messages stay for redelivery."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        try:
            result = self.invoke({"Records": [self._record(message) for message in messages]})
        except HandlerError:
            return len(messages)
        failed = {failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])}
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(done)],
            )
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
