"""Assembling the output and error files while the lines run. Once a run of blocks has every unit ended and weighs
enough, its lines are copied, in input order and already in their final form, into a part: one object for each file.
Finalize then assembles only what is left and joins the parts server side, so its time and memory follow the number
of parts, not of lines."""

import math
import time
from collections.abc import Iterator
from itertools import islice

from batch_core.dal.stores import Stores
from batch_core.errors import StorageError
from batch_core.line_views import iter_lines
from batch_core.models.assembly import Block, Part
from batch_core.models.batch import Batch
from batch_core.observability import logger
from batch_core.settings import Settings

# A part holds at least this much of one of the files: S3 copies a piece of 5 MiB or more into a file server side.
PART_BYTES = 8 * 1024 * 1024
# A part's blocks are claimed in the transaction that records it, which holds at most 100 items.
MAX_PART_BLOCKS = 90
# The parts one unit's end assembles at most, so an executor spends seconds on it, not its invocation: a long run
# that finished at once (behind a slow unit) is left to later ends and to finalize.
MAX_PARTS_AFTER_A_UNIT = 4
# Nor does one start closer than this to the invocation's end: a part of 8 MiB or more takes seconds to gather.
PART_SECONDS = 30.0
_REST_TRIES = 20


def assemble_after(stores: Stores, settings: Settings, batch: Batch, unit: int, *, deadline: float = math.inf) -> None:
    """Called once unit `unit` has ended: if that completed its block, the run of complete blocks around it that
    no part holds yet becomes parts, as many as it has the weight for and the time before `deadline` (a
    `time.monotonic()` instant) allows; the rest waits for its neighbours, or for finalize."""
    number = batch.block_of(unit)
    block = stores.assembly.block(batch.id, number)
    if block is None or not _complete(batch, block):
        return
    nearby = stores.assembly.blocks(batch.id, first=number - MAX_PART_BLOCKS, last=number + MAX_PART_BLOCKS)
    complete = {found.block: found for found in nearby if _complete(batch, found)}
    first = last = number
    while first - 1 in complete:
        first -= 1
    while last + 1 in complete:
        last += 1
    parts = _cut([complete[n] for n in range(first, last + 1)], everything=False)
    for blocks in islice(parts, MAX_PARTS_AFTER_A_UNIT):
        if time.monotonic() + PART_SECONDS > deadline:
            return
        _assemble(stores, settings, batch, blocks)


def assemble_rest(stores: Stores, settings: Settings, batch: Batch) -> None:
    """Every block that no part holds yet becomes parts, whatever they weigh: for finalize, once no line changes.
    A block that another assembler claims meanwhile is read again, so each block ends up in exactly one part."""
    for _ in range(_REST_TRIES):
        found = {block.block: block for block in stores.assembly.blocks(batch.id)}
        left = [found.get(n, Block(batch_id=batch.id, block=n)) for n in range(batch.blocks)]
        left = [block for block in left if block.part is None]
        if all([_assemble(stores, settings, batch, blocks) for run in _runs(left) for blocks in _cut(run)]):
            return
    raise StorageError(f"the blocks of batch {batch.id} kept being claimed by other assemblers")


def _complete(batch: Batch, block: Block) -> bool:
    """Whether every unit of the block has ended and no part holds it yet."""
    return block.part is None and block.units_ended >= len(batch.units_of(block.block))


def _runs(blocks: list[Block]) -> Iterator[list[Block]]:
    """The blocks, in order, split where their numbers are not consecutive."""
    run: list[Block] = []
    for block in blocks:
        if run and block.block != run[-1].block + 1:
            yield run
            run = []
        run.append(block)
    if run:
        yield run


def _cut(run: list[Block], *, everything: bool = True) -> Iterator[list[Block]]:
    """The run's parts, from its start: each ends once it holds PART_BYTES of one of the files, or MAX_PART_BLOCKS
    blocks. What is left lighter than that is a part too only when `everything` is wanted."""
    part: list[Block] = []
    output = errors = 0
    for block in run:
        part.append(block)
        output, errors = output + block.output_bytes, errors + block.error_bytes
        if max(output, errors) >= PART_BYTES or len(part) == MAX_PART_BLOCKS:
            yield part
            part, output, errors = [], 0, 0
    if part and everything:
        yield part


def _assemble(stores: Stores, settings: Settings, batch: Batch, blocks: list[Block]) -> bool:
    """Writes the blocks' lines into the part's objects, then records the part; False when another assembler
    claimed one of the blocks first (its objects then stay unrecorded, unless the winner's part has the same blocks
    and so the same keys and bytes)."""
    first, end = blocks[0].block, blocks[-1].block + 1
    units = range(batch.units_of(first).start, batch.units_of(end - 1).stop)
    with (
        stores.blobs.writer(stores.blobs.part_key(batch.tenant_id, batch.id, first, end, "output")) as output,
        stores.blobs.writer(stores.blobs.part_key(batch.tenant_id, batch.id, first, end, "errors")) as errors,
    ):
        for view in iter_lines(stores, batch, first_unit=units.start, last_unit=units.stop - 1):
            (output if view.status == "succeeded" else errors).write(view.line)
    part = Part(
        batch_id=batch.id,
        first_block=first,
        end_block=end,
        output_key=output.key if output.written else None,
        output_bytes=output.size,
        error_key=errors.key if errors.written else None,
        error_bytes=errors.size,
    )
    claimed = stores.assembly.claim_part(part, settings.batch_ttl(batch.expires_at))
    if not claimed:
        logger.info("blocks assembled by another", extra={"batch_id": batch.id, "first_block": first, "end": end})
    return claimed
