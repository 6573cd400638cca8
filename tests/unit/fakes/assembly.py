"""Blocks and parts in memory: a block changes with its unit's write, a part's record with the claim of its blocks."""

from collections.abc import Iterator

from batch_core.models.assembly import Block, BlockChange, Part
from tests.unit.fakes.batches import FakeBatchStore


class FakeAssemblyStore:
    """Same methods and answers as AssemblyStore. AssemblyStore.block_update builds a transaction item for the unit
    store's writes; its stand-in here is `add`, which the fake unit store calls under the batch store's lock."""

    def __init__(self, batches: FakeBatchStore):
        self.blocks_by_key: dict[tuple[str, int], Block] = {}
        self.parts_by_key: dict[tuple[str, int], Part] = {}
        self.ttls: dict[tuple[str, int], int] = {}
        self._lock = batches.lock

    def add(self, batch_id: str, change: BlockChange) -> None:
        with self._lock:
            found = self.blocks_by_key.get((batch_id, change.block)) or Block(batch_id=batch_id, block=change.block)
            data = found.model_dump()
            for status, count in change.lines.items():
                data[status] += count
            data["units_ended"] += change.units_ended
            data["output_bytes"] += change.output_bytes
            data["error_bytes"] += change.error_bytes
            self.blocks_by_key[batch_id, change.block] = Block.model_validate(data)
            self.ttls.setdefault((batch_id, change.block), change.ttl)

    def block(self, batch_id: str, block: int) -> Block | None:
        with self._lock:
            found = self.blocks_by_key.get((batch_id, block))
            return found.model_copy() if found else None

    def blocks(self, batch_id: str, *, first: int = 0, last: int | None = None) -> Iterator[Block]:
        with self._lock:
            found = sorted(
                (block for (batch, number), block in self.blocks_by_key.items() if batch == batch_id),
                key=lambda block: block.block,
            )
        yield from (
            block.model_copy() for block in found if block.block >= first and (last is None or block.block <= last)
        )

    def claim_part(self, part: Part, ttl: int) -> bool:
        with self._lock:
            numbers = range(part.first_block, part.end_block)
            blocks = [self.blocks_by_key.get((part.batch_id, number)) for number in numbers]
            if (part.batch_id, part.first_block) in self.parts_by_key or any(
                block is not None and block.part is not None for block in blocks
            ):
                return False
            for number, block in zip(numbers, blocks, strict=True):
                found = block or Block(batch_id=part.batch_id, block=number)
                self.blocks_by_key[part.batch_id, number] = found.model_copy(update={"part": part.first_block})
                self.ttls.setdefault((part.batch_id, number), ttl)
            self.parts_by_key[part.batch_id, part.first_block] = part.model_copy()
            return True

    def parts(self, batch_id: str) -> Iterator[Part]:
        with self._lock:
            found = sorted(
                (part for (batch, _), part in self.parts_by_key.items() if batch == batch_id),
                key=lambda part: part.first_block,
            )
        yield from (part.model_copy() for part in found)
