import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import boto3
import moto
import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.s3.models import FakeKey, s3_backends
from moto.s3.responses import S3Response
from moto.sqs.models import Queue, SQSBackend

from embedded.lambdas import LocalLambdas
from embedded.moto_patches import MotoVersionMismatch, moto_patches
from embedded.template import Stack

ITEM = {
    "pk": {"S": "batch"},
    "sk": {"S": "unit#1"},
    "count": {"N": "1.5"},
    "data": {"B": b"\x00\x01"},
    "indexes": {"NS": ["1", "2"]},
    "parts": {"L": [{"S": "part-a"}]},
    "flags": {"M": {"done": {"BOOL": True}, "note": {"NULL": True}}},
}
PATCHED_OWNERS = (
    DynamoDBBackend,
    Table,
    DynamoResult,
    S3Response,
    FakeKey,
    SQSBackend,
    Queue,
    LambdaSimpleBackend,
    AmazonCloudWatchEMFProvider,
    dynamodb_models,
)


@pytest.fixture
def lambdas() -> LocalLambdas:
    return LocalLambdas(Stack(name="test", region="us-east-1", template={}, parameters={}))


@pytest.fixture
def table(lambdas: LocalLambdas) -> Iterator[Any]:
    with moto_patches(lambdas), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def _attributes() -> dict[str, Any]:
    return {f"{owner.__name__}.{name}": value for owner in PATCHED_OWNERS for name, value in vars(owner).items()}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) is not after.get(name)}


def test_items_read_back_exactly_as_written(table: Any) -> None:
    table.put_item(TableName="t", Item=ITEM)

    read = table.get_item(TableName="t", Key={"pk": ITEM["pk"], "sk": ITEM["sk"]})["Item"]
    queried = table.query(
        TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": ITEM["pk"]}
    )["Items"]

    assert read == ITEM
    assert queried == [ITEM]


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "p1"}}},
    {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":pk": {"S": "p1"}, ":a": {"S": "s003"}, ":b": {"S": "s007"}},
    },
    {
        "KeyConditionExpression": "pk = :pk AND sk > :a",
        "ExpressionAttributeValues": {":pk": {"S": "p2"}, ":a": {"S": "s005"}},
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "p1"}, ":n": {"N": "4"}},
        "FilterExpression": "n > :n",
        "ExclusiveStartKey": {"pk": {"S": "p1"}, "sk": {"S": "s002"}},
        "Limit": 3,
    },
    {
        "IndexName": "by-group",
        "KeyConditionExpression": "g = :g AND gs < :gs",
        "ExpressionAttributeValues": {":g": {"S": "g1"}, ":gs": {"S": "s006"}},
        "ScanIndexForward": False,
    },
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "missing"}}},
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_answers_as_moto_does_from_the_partition_alone(lambdas: LocalLambdas, query: dict[str, Any]) -> None:
    answers = []
    for patched in (False, True):
        with mock_aws(), moto_patches(lambdas) if patched else nullcontext():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            dynamodb.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "g", "gs")
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "by-group",
                        "KeySchema": [
                            {"AttributeName": "g", "KeyType": "HASH"},
                            {"AttributeName": "gs", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            for n in (3, 9, 1, 7, 5, 2, 8, 6, 4, 0):
                for pk in ("p1", "p2", "p3"):
                    item = {"pk": {"S": pk}, "sk": {"S": f"s{n:03d}"}, "n": {"N": str(n)}}
                    if n % 2:
                        item.update(g={"S": f"g{pk[-1]}"}, gs={"S": f"s{n:03d}"})
                    dynamodb.put_item(TableName="t", Item=item)
            answer = dynamodb.query(TableName="t", **query)
            answers.append((answer["Items"], answer.get("LastEvaluatedKey"), answer["Count"]))

    assert answers[1] == answers[0]
    assert answers[0][0] or query["ExpressionAttributeValues"][":pk"]["S"] == "missing"


def test_of_writers_conditioned_on_one_version_exactly_one_wins(table: Any) -> None:
    key = {"pk": {"S": "quota"}, "sk": {"S": "t"}}

    def write(version: int, writer: int) -> bool:
        try:
            table.put_item(
                TableName="t",
                Item={**key, "version": {"N": str(version + 1)}, "writer": {"N": str(writer)}},
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={":seen": {"N": str(version)}},
            )
        except ClientError as refused:
            assert refused.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    table.put_item(TableName="t", Item={**key, "version": {"N": "0"}})
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, so also between moto's condition check and its write
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            winners = [sum(pool.map(write, [version] * 4, range(4))) for version in range(50)]
    finally:
        sys.setswitchinterval(interval)

    assert winners == [1] * 50
    assert table.get_item(TableName="t", Key=key)["Item"]["version"] == {"N": "50"}


def test_a_cancelled_transaction_leaves_every_item_it_touched_as_it_was(table: Any) -> None:
    table.put_item(TableName="t", Item=ITEM)
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    new_key = {"pk": {"S": "batch"}, "sk": {"S": "unit#2"}}

    with pytest.raises(ClientError, match="TransactionCanceled"):
        table.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "REMOVE parts"}},
                {"Put": {"TableName": "t", "Item": {**new_key, "state": {"S": "pending"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "other"}, "sk": {"S": "x"}},
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":v": {"N": "1"}},
                    }
                },
            ]
        )

    assert table.get_item(TableName="t", Key=key)["Item"] == ITEM
    assert "Item" not in table.get_item(TableName="t", Key=new_key)


def test_a_standard_queue_with_message_groups_serves_the_group_with_fewest_in_flight_first(
    lambdas: LocalLambdas,
) -> None:
    with moto_patches(lambdas), mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        for n in range(6):
            sqs.send_message(QueueUrl=url, MessageBody=f"big-{n}", MessageGroupId="big")
        first = [sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] for _ in range(2)]
        sqs.send_message(QueueUrl=url, MessageBody="small-0", MessageGroupId="small")
        sqs.send_message(QueueUrl=url, MessageBody="small-1", MessageGroupId="small")
        later = [sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] for _ in range(4)]

    assert first == ["big-0", "big-1"]
    assert later == ["small-0", "small-1", "big-2", "big-3"]


def test_a_poller_that_deletes_each_message_before_the_next_still_alternates_between_groups(
    lambdas: LocalLambdas,
) -> None:
    with moto_patches(lambdas), mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        for n in range(4):
            sqs.send_message(QueueUrl=url, MessageBody=f"big-{n}", MessageGroupId="big")
        sqs.send_message(QueueUrl=url, MessageBody="small-0", MessageGroupId="small")
        sqs.send_message(QueueUrl=url, MessageBody="small-1", MessageGroupId="small")
        served = []
        for _ in range(6):
            [message] = sqs.receive_message(QueueUrl=url)["Messages"]
            served.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    assert served == ["big-0", "small-0", "big-1", "small-1", "big-2", "big-3"]


def bytes_read_from(key: FakeKey) -> list[int]:
    """How many bytes each read of the object's stored value returns, from now on."""
    reads: list[int] = []
    read = key._value_buffer.read

    def counted(size: int = -1) -> bytes:
        chunk = read(size)
        reads.append(len(chunk))
        return chunk

    key._value_buffer.read = counted
    return reads


@pytest.mark.parametrize(
    ("asked", "bytes_read"),
    [
        ("bytes=10-19", [10]),
        ("bytes=0-0", [1]),
        ("bytes=990-2000", [10]),
        ("bytes=995-", [5]),
        ("bytes=-5", [1000]),  # a suffix range is not cut by the patch: moto reads the whole value
        ("bytes=2000-2100", [1000]),
        ("bytes=5-1", [1000]),
    ],
)
def test_a_ranged_get_answers_as_moto_does_reading_only_its_range(
    lambdas: LocalLambdas, asked: str, bytes_read: list[int]
) -> None:
    answers = []
    for patched in (False, True):
        with mock_aws(), moto_patches(lambdas) if patched else nullcontext():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="ranges")
            s3.put_object(Bucket="ranges", Key="k", Body=bytes(range(250)) * 4)
            reads = bytes_read_from(s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets["ranges"].keys["k"])
            try:
                answer = s3.get_object(Bucket="ranges", Key="k", Range=asked)
                answers.append((answer["Body"].read(), answer.get("ContentRange"), answer["ContentLength"]))
            except ClientError as refused:
                answers.append((refused.response["Error"]["Code"], None, None))
            read_by_range = list(reads)
            whole = s3.get_object(Bucket="ranges", Key="k")["Body"].read()

        assert whole == bytes(range(250)) * 4

    assert answers[1] == answers[0]
    assert read_by_range == bytes_read


def test_a_queue_counts_its_messages_when_asked_though_sending_does_not_count_them(lambdas: LocalLambdas) -> None:
    with moto_patches(lambdas), mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        fifo = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        for start in range(0, 200, 10):
            entries = [{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        with pytest.raises(ClientError, match="MessageGroupId"):
            sqs.send_message(QueueUrl=fifo, MessageBody="no group")

        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("190", "10")
    assert counts["VisibilityTimeout"] == "60"


def test_leaving_the_patches_puts_moto_back_exactly_as_it_was(lambdas: LocalLambdas) -> None:
    before = _attributes()

    with moto_patches(lambdas):
        during = _attributes()
    after = _attributes()

    assert _changed(before, during) == {
        "DynamoDBBackend.put_item",
        "DynamoDBBackend.update_item",
        "DynamoDBBackend.delete_item",
        "DynamoDBBackend.get_item",
        "DynamoDBBackend.query",
        "DynamoDBBackend.scan",
        "DynamoDBBackend.transact_write_items",
        "Table.query",
        "S3Response.get_object",
        "FakeKey.value",
        "DynamoResult.execute_result",  # inherited from moto's ActionResult, so absent again after
        "SQSBackend.is_message_valid_based_on_retention_period",
        "Queue.messages",
        "SQSBackend.send_message",
        "Queue.attributes",
        "SQSBackend.receive_message",
        "LambdaSimpleBackend.invoke",
        "AmazonCloudWatchEMFProvider.add_metric",
        "AmazonCloudWatchEMFProvider.flush_metrics",
        "moto.dynamodb.models.copy",
    }
    assert _changed(before, after) == set()


def test_moto_is_put_back_when_the_patched_code_raises(lambdas: LocalLambdas) -> None:
    before = _attributes()

    with pytest.raises(ZeroDivisionError), moto_patches(lambdas):
        _ = 1 / 0

    assert _changed(before, _attributes()) == set()


def test_the_patches_refuse_another_moto_version_and_change_nothing(
    lambdas: LocalLambdas, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _attributes()
    monkeypatch.setattr(moto, "__version__", "5.1.0")

    with pytest.raises(MotoVersionMismatch) as refused, moto_patches(lambdas):
        pass

    assert str(refused.value) == (
        "the local stack's moto patches were written for moto 5.2.5, but moto 5.1.0 is installed:"
        " install moto==5.2.5, or check each patch in embedded/moto_patches.py against moto 5.1.0"
    )
    assert _changed(before, _attributes()) == set()


def test_the_patches_cannot_be_applied_twice_at_once(lambdas: LocalLambdas) -> None:
    with moto_patches(lambdas):
        with pytest.raises(RuntimeError) as refused, moto_patches(lambdas):
            pass

        assert str(refused.value) == "moto is already patched for another local system; end that one first"


def test_handlers_side_by_side_each_flush_their_metrics_without_failing(
    lambdas: LocalLambdas, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One metric set a process, as in Powertools: each thread a handler adding a metric and flushing at its end,
    # whose writing takes a moment (another thread runs meanwhile).
    metrics = Metrics(namespace="Test", service="test")
    serialize = AmazonCloudWatchEMFProvider.serialize_metric_set

    def slow_serialize(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.001)
        return serialize(*args, **kwargs)

    monkeypatch.setattr(AmazonCloudWatchEMFProvider, "serialize_metric_set", slow_serialize)
    failures: list[Exception] = []

    def handler() -> None:
        for _ in range(50):
            try:
                metrics.add_metric(name="Lines", unit=MetricUnit.Count, value=1)
                metrics.flush_metrics()
            except Exception as failed:  # noqa: BLE001 - what the race raised is the finding
                failures.append(failed)

    with moto_patches(lambdas):
        threads = [threading.Thread(target=handler) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    assert capsys.readouterr().out.count('"Lines"') >= 50
