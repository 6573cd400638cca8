"""Blocks and parts: blocks count with their units' writes and list in order; a part claims its blocks once."""

from batch_core.dal.stores import Stores
from batch_core.models.assembly import Block, Part
from batch_core.models.work_unit import AttemptRecord, UnitRecord
from tests.integration.fake_stores.test_batches_and_units import NOW, block_change, new_batch


def ended_unit(stores: Stores, unit: int, block: int, **lines: int) -> None:
    stores.units.put_all(
        [UnitRecord(batch_id="batch_1", unit=unit, first=unit, count=1, byte_start=0, byte_end=1)], NOW
    )
    claimed = stores.units.claim("batch_1", unit, now=NOW, lease_seconds=10)
    assert claimed is not None
    change = block_change(units_ended=1, output_bytes=10, **lines).model_copy(update={"block": block})
    assert stores.units.record_attempt(claimed, AttemptRecord(finished={unit: "succeeded"}, block=change))


def part(first: int, end: int) -> Part:
    return Part(batch_id="batch_1", first_block=first, end_block=end, output_key=f"parts/{first}", output_bytes=end)


def test_blocks_list_in_order_within_a_range(stores: Stores) -> None:
    stores.batches.put_new(new_batch(total=4))
    for unit, block in ((0, 2), (1, 0), (2, 3), (3, 2)):
        ended_unit(stores, unit, block, succeeded=1)

    assert [(block.block, block.units_ended) for block in stores.assembly.blocks("batch_1")] == [(0, 1), (2, 2), (3, 1)]
    assert [block.block for block in stores.assembly.blocks("batch_1", first=1, last=2)] == [2]
    assert [block.block for block in stores.assembly.blocks("batch_1", first=-5, last=0)] == [0]
    assert stores.assembly.block("batch_1", 1) is None


def test_a_part_claims_its_blocks_once_and_parts_list_in_order(stores: Stores) -> None:
    stores.batches.put_new(new_batch(total=2))
    ended_unit(stores, 0, 0, succeeded=1)

    claims = [
        stores.assembly.claim_part(part(2, 4), NOW),
        stores.assembly.claim_part(part(0, 2), NOW),
        stores.assembly.claim_part(part(1, 3), NOW),
        stores.assembly.claim_part(part(0, 2), NOW),
    ]

    assert claims == [True, True, False, False]
    assert list(stores.assembly.parts("batch_1")) == [part(0, 2), part(2, 4)]
    assert list(stores.assembly.blocks("batch_1")) == [
        Block(batch_id="batch_1", block=0, succeeded=1, units_ended=1, output_bytes=10, part=0),
        Block(batch_id="batch_1", block=1, part=0),
        Block(batch_id="batch_1", block=2, part=2),
        Block(batch_id="batch_1", block=3, part=2),
    ]
