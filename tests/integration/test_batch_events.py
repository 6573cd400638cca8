"""Every status change of a batch reaches EventBridge, as a rule on the bus delivers it."""

import json
from typing import Any

import boto3

from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line
from tests.waiting import wait_for

CHAT = "/v1/chat/completions"


def test_each_status_of_a_batch_is_put_on_the_bus_with_its_counts(console: Console, system: LocalSystem) -> None:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName="heard")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="batches", EventPattern=json.dumps({"source": ["batch-api"]}))
    events.put_targets(Rule="batches", Targets=[{"Id": "queue", "Arn": queue_arn}])
    lines = [chat_line("a", "one"), chat_line("b", "two [fault:400]")]

    batch = console.wait(console.create({"endpoint": CHAT, "requests": lines}).json()["id"])

    heard: list[dict[str, Any]] = []

    def hear_the_end() -> bool:
        # The event follows the stored change, so a client can see `completed` a moment before the bus does.
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        heard.extend(json.loads(message["Body"]) for message in messages)
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bool(heard) and heard[-1]["detail"]["status"] == "completed"

    wait_for(hear_the_end, timeout=10)
    assert [event["detail"]["status"] for event in heard] == ["validating", "in_progress", "finalizing", "completed"]
    assert {event["detail-type"] for event in heard} == {"Batch Status Change"}
    assert heard[-1]["detail"]["id"] == batch["id"] and heard[-1]["detail"]["tenant_id"] == "tenant-a"
    assert heard[-1]["detail"]["request_counts"] == batch["request_counts"]
