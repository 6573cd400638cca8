from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from batch_core.dal.clients import condition_failed, storage_error


def test_an_error_answer_from_aws_means_nothing_was_written() -> None:
    answer = ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "PutItem")

    failure = storage_error("could not store batch b", answer)

    assert (str(failure), failure.unanswered) == ("could not store batch b", False)


def test_no_answer_from_aws_leaves_a_write_unknown() -> None:
    for fault in (ReadTimeoutError(endpoint_url="dynamodb"), EndpointConnectionError(endpoint_url="s3")):
        assert storage_error("could not store batch b", fault).unanswered is True


def test_a_failed_condition_is_told_from_other_errors_in_a_transaction_too() -> None:
    cancelled = {
        "Error": {"Code": "TransactionCanceledException", "Message": ""},
        "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
    }
    throttled = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": ""}}

    assert condition_failed(ClientError(cancelled, "TransactWriteItems")) is True
    assert condition_failed(ClientError(throttled, "UpdateItem")) is False
    assert condition_failed(ReadTimeoutError(endpoint_url="dynamodb")) is False
