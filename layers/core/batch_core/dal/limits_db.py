import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import to_attributes, value
from batch_core.errors import StorageError
from batch_core.models.limit import LimitState
from batch_core.settings import Settings

_TRIES = 8
_CONFLICT_PAUSE_SECONDS = 0.02

Result = TypeVar("Result")


class LimitStore:
    """The shared limiter's records, one per route and model, changed by optimistic writes: read the state and
    its version, write the changed state only if the version still holds, else read again."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._aws = aws

    def change(
        self, route: str, model: str, change: Callable[[LimitState, float], tuple[LimitState, Result]]
    ) -> Result:
        """Applies `change` to the current state and the time now, stores the state it returns, and returns
        its result."""
        for attempt in range(_TRIES):
            state, version = self._read(route, model)
            changed, result = change(state, time.time())
            if self._write(route, model, changed, version):
                return result
            # Writers that met on the record spread out before they read it again.
            time.sleep(random.uniform(0, _CONFLICT_PAUSE_SECONDS * 2**attempt))
        raise StorageError(f"the limiter of {route}/{model} kept changing under {_TRIES} writers")

    def _read(self, route: str, model: str) -> tuple[LimitState, int]:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.limit_key(route, model)), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read the limiter of {route}/{model}", exc) from exc
        item = answer.get("Item")
        if item is None:
            return LimitState(), 0
        return LimitState.model_validate_json(item["state"]["S"]), int(item["version"]["N"])

    def _write(self, route: str, model: str, state: LimitState, version: int) -> bool:
        item = {
            **to_attributes(keys.limit_key(route, model)),
            "state": value(state.model_dump_json()),
            "version": value(version + 1),
        }
        condition = "attribute_not_exists(pk)" if version == 0 else "version = :seen"
        values = {} if version == 0 else {":seen": value(version)}
        written = conditional_write(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            ),
            f"write the limiter of {route}/{model}",
        )
        return written is not None

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")
