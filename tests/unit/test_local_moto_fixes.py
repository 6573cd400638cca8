import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from embedded.moto_fixes import apply_moto_fixes

ITEM = {
    "pk": {"S": "batch"},
    "sk": {"S": "unit#1"},
    "count": {"N": "1.5"},
    "data": {"B": b"\x00\x01"},
    "indexes": {"NS": ["1", "2"]},
    "parts": {"L": [{"S": "part-a"}]},
    "flags": {"M": {"done": {"BOOL": True}, "note": {"NULL": True}}},
}


@pytest.fixture
def table():
    apply_moto_fixes()
    with mock_aws():
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


def test_items_read_back_exactly_as_written(table):
    table.put_item(TableName="t", Item=ITEM)

    read = table.get_item(TableName="t", Key={"pk": ITEM["pk"], "sk": ITEM["sk"]})["Item"]
    queried = table.query(
        TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": ITEM["pk"]}
    )["Items"]

    assert read == ITEM
    assert queried == [ITEM]


def test_a_cancelled_transaction_leaves_every_item_it_touched_as_it_was(table):
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
