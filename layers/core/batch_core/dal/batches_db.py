from collections.abc import Collection
from itertools import islice
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, from_json_text, one_of, to_attributes, to_json_text, value
from batch_core.dal.listing import newest_first, read_items
from batch_core.errors import InvalidTransition
from batch_core.models.batch import Batch, RequestCounts
from batch_core.models.status import PREPARABLE, BatchStatus, batch_sources
from batch_core.models.usage import Usage
from batch_core.settings import Settings

_COUNTERS = ("total", "completed", "failed", "cancelled", "expired")
# The token totals a batch keeps; `total_tokens` is input plus output, so it is not stored.
TOKEN_COUNTERS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")
_PLAIN = (*TOKEN_COUNTERS, "lines_waiting")


class BatchStore:
    """Batch records: one item per batch, listed per tenant newest first through the `gsi1` index."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._settings = settings
        self._aws = aws

    def put_new(self, batch: Batch) -> None:
        try:
            self._dynamodb.put_item(
                TableName=self.table_name, Item=self._to_item(batch), ConditionExpression="attribute_not_exists(pk)"
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not store batch {batch.id}", exc) from exc

    def get(self, batch_id: str, *, consistent: bool = False) -> Batch | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.batch_key(batch_id)), ConsistentRead=consistent
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read batch {batch_id}", exc) from exc
        return _from_item(answer["Item"]) if "Item" in answer else None

    def list(self, tenant_id: str, *, status: str | None = None, limit: int, before: str | None = None) -> list[Batch]:
        """A tenant's batches, newest first, optionally only those in one status."""
        query = newest_first(self.table_name, keys.tenant_partition(tenant_id), before=before)
        if status:
            query["FilterExpression"] = "#status = :status"
            query["ExpressionAttributeNames"] = {"#status": "status"}
            query["ExpressionAttributeValues"][":status"] = value(status)
        items = read_items(self._dynamodb, query, f"the batches of tenant {tenant_id}")
        return [_from_item(item) for item in islice(items, limit)]

    def transition(self, batch_id: str, *, to: BatchStatus, changes: dict[str, Any] | None = None) -> Batch:
        """Moves the batch to status `to` with `changes`, only from a status the status table allows;
        raises InvalidTransition otherwise."""
        return self._update(batch_id, batch_sources(to), {"status": to, **(changes or {})})

    def update(self, batch_id: str, *, while_in: Collection[BatchStatus], changes: dict[str, Any]) -> Batch:
        """Sets fields of the batch (not its status) only while its status is one of `while_in`;
        raises InvalidTransition otherwise."""
        if "status" in changes:
            raise ValueError("a status changes through transition(), which the status table governs")
        return self._update(batch_id, while_in, changes)

    def plan(self, batch_id: str, *, total: int, units: int, unit_lines: int, block_units: int) -> Batch:
        """Records how many lines the batch has and how they are cut into units and blocks, while prepare may
        plan it."""
        changes = {"n_total": total, "units": units, "unit_lines": unit_lines, "block_units": block_units}
        return self._update(batch_id, PREPARABLE, changes)

    def claim_finisher(self, batch_id: str) -> bool:
        """True for exactly one caller: the one that may signal that every line is done."""
        return self._write_if(
            batch_id,
            "SET finisher_claimed = :yes",
            "attribute_not_exists(finisher_claimed)",
            {":yes": value(True)},
            f"claim the finisher of batch {batch_id}",
        )

    def counters_update(
        self, batch_id: str, deltas: dict[str, int], *, waiting_since: int | None = None
    ) -> dict[str, Any]:
        """A transaction item that adds to a batch's line counters (`completed`, `failed`, …), token totals and
        lines waiting for capacity; `waiting_since` is kept as the wait's start unless one is already set."""
        attribute = {name: name if name in _PLAIN else f"n_{name}" for name in deltas}
        expression = "ADD " + ", ".join(f"#{name} :{name}" for name in deltas)
        values = {f":{name}": value(delta) for name, delta in deltas.items()}
        names = {f"#{name}": attribute[name] for name in deltas}
        if waiting_since is not None:
            expression = "SET waiting_since = if_not_exists(waiting_since, :since) " + expression
            values[":since"] = value(waiting_since)
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_attributes(keys.batch_key(batch_id)),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def end_wait(self, batch_id: str) -> bool:
        """Clears when the batch's lines began waiting, if none waits now; False when some still wait."""
        return self._write_if(
            batch_id,
            "REMOVE waiting_since",
            "lines_waiting = :zero",
            {":zero": value(0)},
            f"end the wait of batch {batch_id}",
        )

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")

    def _write_if(self, batch_id: str, update: str, condition: str, values: dict[str, Any], what: str) -> bool:
        """One update of an existing batch under `condition`; False when the condition did not hold."""
        written = conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.batch_key(batch_id)),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeValues=values,
            ),
            what,
        )
        return written is not None

    def _update(self, batch_id: str, expected: Collection[BatchStatus], changes: dict[str, Any]) -> Batch:
        condition, values = one_of("#status", expected, "expected")
        names = {"#status": "status", **{f"#{name}": name for name in changes}}
        values.update({f":{name}": value(item) for name, item in changes.items()})
        answer = conditional_write(
            lambda: self._dynamodb.update_item(
                TableName=self.table_name,
                Key=to_attributes(keys.batch_key(batch_id)),
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            ),
            f"update batch {batch_id}",
        )
        if answer is None:
            raise InvalidTransition(f"batch {batch_id} is not {' or '.join(sorted(expected))}")
        return _from_item(answer["Attributes"])

    def _to_item(self, batch: Batch) -> dict[str, Any]:
        data = batch.model_dump(exclude={"request_counts", "usage"})
        data["metadata"] = to_json_text(batch.metadata)
        data.update({f"n_{name}": getattr(batch.request_counts, name) for name in _COUNTERS})
        data.update({name: getattr(batch.usage, name) for name in TOKEN_COUNTERS})
        data["ttl"] = self._settings.batch_ttl(batch.expires_at)
        data.update(keys.batch_key(batch.id))
        data.update(keys.tenant_listing(batch.tenant_id, batch.id))
        return to_attributes(data)


def _from_item(item: dict[str, Any]) -> Batch:
    data = from_attributes(item)
    data["metadata"] = from_json_text(data.get("metadata"))
    counts = RequestCounts(**{name: data.pop(f"n_{name}", 0) for name in _COUNTERS})
    tokens = {name: data.pop(name, 0) for name in TOKEN_COUNTERS}
    usage = Usage(**tokens, total_tokens=tokens["input_tokens"] + tokens["output_tokens"])
    return Batch.model_validate({**data, "request_counts": counts, "usage": usage})
