from collections.abc import Iterator
from typing import Any

from batch_core.dal import keys
from batch_core.dal.clients import AWS_ERRORS, AwsClients, conditional_write, storage_error
from batch_core.dal.codec import from_attributes, to_attributes, value
from batch_core.dal.listing import read_items
from batch_core.models.assembly import Block, BlockChange, Part
from batch_core.settings import Settings


class AssemblyStore:
    """A batch's blocks and parts. A block changes in the same transaction as the unit whose attempt or closing
    changes it; a part is recorded in one transaction with the claim of every block it holds."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.table_name = settings.table_name
        self._aws = aws

    def block_update(self, batch_id: str, change: BlockChange) -> dict[str, Any]:
        """A transaction item that adds `change` to its block, creating the block's record if it has none."""
        deltas: dict[str, int] = {status: count for status, count in change.lines.items() if count}
        deltas.update(output_bytes=change.output_bytes, error_bytes=change.error_bytes, units_ended=change.units_ended)
        deltas = {name: int(delta) for name, delta in deltas.items() if delta}
        names = {"#batch": "batch_id", "#block": "block", "#ttl": "ttl", **{f"#{name}": name for name in deltas}}
        values = {":batch": value(batch_id), ":block": value(change.block), ":ttl": value(change.ttl)}
        values.update({f":{name}": value(delta) for name, delta in deltas.items()})
        expression = "SET #batch = :batch, #block = :block, #ttl = if_not_exists(#ttl, :ttl)"
        if deltas:
            expression += " ADD " + ", ".join(f"#{name} :{name}" for name in deltas)
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_attributes(keys.block_key(batch_id, change.block)),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def block(self, batch_id: str, block: int) -> Block | None:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=to_attributes(keys.block_key(batch_id, block)), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise storage_error(f"could not read block {block} of batch {batch_id}", exc) from exc
        return _model(Block, answer["Item"]) if "Item" in answer else None

    def blocks(self, batch_id: str, *, first: int = 0, last: int | None = None) -> Iterator[Block]:
        """The batch's block records from `first` to `last` inclusive, in order; a block none of whose units has
        changed yet has no record."""
        query = _between(self.table_name, keys.blocks_partition(batch_id), keys.block_key, batch_id, first, last)
        return (_model(Block, item) for item in read_items(self._dynamodb, query, f"the blocks of batch {batch_id}"))

    def claim_part(self, part: Part, ttl: int) -> bool:
        """Records the part and marks each of its blocks as in it, all or nothing; False when one of the blocks
        already went into another part (nothing changes then)."""
        blocks = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_attributes(keys.block_key(part.batch_id, block)),
                    "UpdateExpression": "SET #part = :part, #batch = :batch, #block = :block, "
                    "#ttl = if_not_exists(#ttl, :ttl)",
                    "ConditionExpression": "attribute_not_exists(#part)",
                    "ExpressionAttributeNames": {
                        "#part": "part",
                        "#batch": "batch_id",
                        "#block": "block",
                        "#ttl": "ttl",
                    },
                    "ExpressionAttributeValues": {
                        ":part": value(part.first_block),
                        ":batch": value(part.batch_id),
                        ":block": value(block),
                        ":ttl": value(ttl),
                    },
                }
            }
            for block in range(part.first_block, part.end_block)
        ]
        record = {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attributes(
                    {**part.model_dump(), **keys.part_key(part.batch_id, part.first_block), "ttl": ttl}
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        written = conditional_write(
            lambda: self._dynamodb.transact_write_items(TransactItems=[record, *blocks]),
            f"record part {part.first_block}-{part.end_block} of batch {part.batch_id}",
        )
        return written is not None

    def parts(self, batch_id: str) -> Iterator[Part]:
        """The batch's parts in input order."""
        query = _between(self.table_name, keys.parts_partition(batch_id), keys.part_key, batch_id, 0, None)
        return (_model(Part, item) for item in read_items(self._dynamodb, query, f"the parts of batch {batch_id}"))

    @property
    def _dynamodb(self) -> Any:
        return self._aws.client("dynamodb")


def _between(table: str, partition: str, key: Any, batch_id: str, first: int, last: int | None) -> dict[str, Any]:
    upper = key(batch_id, last)["sk"] if last is not None else key(batch_id, 0)["sk"].split("#")[0] + "#~"
    return {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": value(partition),
            ":first": value(key(batch_id, max(0, first))["sk"]),
            ":last": value(upper),
        },
        "ConsistentRead": True,
    }


def _model(kind: Any, item: dict[str, Any]) -> Any:
    return kind.model_validate(from_attributes(item))
