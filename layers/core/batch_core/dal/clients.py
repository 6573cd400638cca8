from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64)


@lru_cache
def client(service: str) -> Any:
    """One boto3 client per service and process, reused across invocations."""
    return boto3.client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients, e.g. when tests start a fresh set of mocked AWS resources."""
    client.cache_clear()
