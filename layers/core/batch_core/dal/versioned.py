"""Records changed by optimistic writes: read the state and its version, write the changed state only if the
version still holds, else read again. The limiter's and the tenants' quota records are kept this way."""

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import BaseModel

from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import to_attributes, value
from batch_core.errors import StorageError
from batch_core.observability import logger

_TRIES = 8
# Writes no caller waits for. In Lambda a write still pending when an invocation ends goes on when the next begins.
_KEEPING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="record-keeping")
_CONFLICT_PAUSE_SECONDS = 0.02

State = TypeVar("State", bound=BaseModel)
Result = TypeVar("Result")


class VersionedRecords:
    def __init__(self, table_name: str, aws: AwsClients):
        self.table_name = table_name
        self._aws = aws

    def change(
        self,
        key: dict[str, str],
        kind: type[State],
        named: str,
        change: Callable[[State, float], tuple[State, Result]],
        stands: Callable[[Result], bool] | None = None,
    ) -> Result:
        """Applies `change` to the record's state (a new `kind()` if there is none) and the time now, stores the
        state it returns, and returns its result. An exception `change` raises, or the state returned as it
        came, leaves the record as it was. A result that `stands` holds without its write: the change was only
        record keeping, so it is returned at once, written in the background, and not tried again if another
        writer's wins."""
        for attempt in range(_TRIES):
            state, version = self.read(key, kind, named)
            changed, result = change(state, time.time())
            if changed is state:
                return result
            if stands is not None and stands(result):
                _KEEPING.submit(self._keep, key, changed, version, named)
                return result
            if self._write(key, changed, version, named):
                return result
            # Writers that met on the record spread out before they read it again.
            time.sleep(random.uniform(0, _CONFLICT_PAUSE_SECONDS * 2**attempt))
        raise StorageError(f"{named} kept changing under {_TRIES} writers")

    def read(self, key: dict[str, str], kind: type[State], named: str) -> tuple[State, int]:
        try:
            answer = self._dynamodb.get_item(TableName=self.table_name, Key=to_attributes(key), ConsistentRead=True)
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read {named}", exc) from exc
        item = answer.get("Item")
        if item is None:
            return kind(), 0
        return kind.model_validate_json(item["state"]["S"]), int(item["version"]["N"])

    def _write(self, key: dict[str, str], state: BaseModel, version: int, named: str) -> bool:
        item = {**to_attributes(key), "state": value(state.model_dump_json()), "version": value(version + 1)}
        condition = "attribute_not_exists(pk)" if version == 0 else "version = :seen"
        values = {} if version == 0 else {":seen": value(version)}
        written = conditional_write(
            lambda: self._dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            ),
            f"write {named}",
        )
        return written is not None

    def _keep(self, key: dict[str, str], state: BaseModel, version: int, named: str) -> None:
        """A write in the background: one lost to another writer's is dropped, one that fails is logged."""
        try:
            self._write(key, state, version, named)
        except StorageError as failed:
            logger.warning("record keeping lost", extra={"record": named, "error": str(failed)})

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")
