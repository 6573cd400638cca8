import threading
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from batch_core.errors import StorageError

Answer = TypeVar("Answer")

# Without botocore's client-side check of every request against the service model: the service checks the same,
# and the check cost more CPU than serializing (a third of storing a work unit).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64, parameter_validation=False)

# boto3's default session is not safe to create clients from in parallel, and every AwsClients shares it.
_CREATING = threading.Lock()

# What an AWS call raises when it fails: an error answer, or no answer at all (a connection or read fault).
AWS_ERRORS = (ClientError, BotoCoreError)


class AwsClients:
    """The boto3 clients of one set of stores, each made on first use and then reused across invocations and
    threads. The endpoint, region and credentials come from boto3's usual sources (its environment)."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is None:
            with _CREATING:
                if service not in self._clients:
                    self._clients[service] = boto3.client(service, config=_CONFIG)
                found = self._clients[service]
        return found


def storage_error(message: str, exc: Exception) -> StorageError:
    """The error a store raises for a failed AWS call (`from exc`), saying whether AWS answered."""
    return StorageError(message, unanswered=not isinstance(exc, ClientError))


def condition_failed(exc: Exception) -> bool:
    """True when a DynamoDB condition did not hold (for a transaction: any of its conditions)."""
    if not isinstance(exc, ClientError):
        return False
    error = exc.response["Error"]["Code"]
    if error == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return error == "ConditionalCheckFailedException"


def error_code(exc: Exception) -> str | None:
    """The error code of an AWS answer; None when no answer came."""
    return exc.response["Error"]["Code"] if isinstance(exc, ClientError) else None


def conditional_write(write: Callable[[], Answer], what: str) -> Answer | None:
    """The answer of a conditional DynamoDB write; None when its condition did not hold. Any other
    failure is the StorageError "could not `what`"."""
    try:
        return write()
    except AWS_ERRORS as exc:
        if condition_failed(exc):
            return None
        raise storage_error(f"could not {what}", exc) from exc
