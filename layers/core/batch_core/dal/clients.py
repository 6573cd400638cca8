import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64)
_CREATING = threading.Lock()  # boto3's default session is not safe to create clients from in parallel


@lru_cache
def client(service: str) -> Any:
    """One boto3 client per service and process, reused across invocations and threads."""
    with _CREATING:
        return boto3.client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients, e.g. when tests start a fresh set of mocked AWS resources."""
    client.cache_clear()


def condition_failed(exc: ClientError) -> bool:
    """True when a DynamoDB condition did not hold (for a transaction: any of its conditions)."""
    error = exc.response["Error"]["Code"]
    if error == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return error == "ConditionalCheckFailedException"
