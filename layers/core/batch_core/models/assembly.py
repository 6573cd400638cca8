"""How a batch's output and error files are assembled while its lines run: blocks of work units count how their
lines ended, and runs of finished blocks become parts, the pieces the files are joined from."""

from typing import Literal

from pydantic import BaseModel

# A block is this many lines' worth of units: its counters let a status page pass over it without reading its units.
BLOCK_LINES = 5_000
BlockStatus = Literal["succeeded", "failed", "cancelled", "expired"]
BLOCK_STATUSES: tuple[BlockStatus, ...] = ("succeeded", "failed", "cancelled", "expired")
Stream = Literal["output", "errors"]


def block_units(unit_lines: int) -> int:
    """Units to a block for units of `unit_lines` lines."""
    return max(1, BLOCK_LINES // unit_lines)


class Block(BaseModel):
    """A run of consecutive work units: its lines by how they ended, its units that ended (done, cancelled or
    expired), the bytes its finished lines take in each file, and the part it went into once assembled."""

    batch_id: str
    block: int
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0
    units_ended: int = 0
    output_bytes: int = 0
    error_bytes: int = 0
    part: int | None = None

    def lines(self, status: str) -> int:
        return int(getattr(self, status))


class BlockChange(BaseModel):
    """What one unit's attempt or closing adds to its block, in the same write as the unit's own change; `ttl` is
    when the block's record expires, with its batch's."""

    block: int
    ttl: int
    lines: dict[BlockStatus, int] = {}
    units_ended: int = 0
    output_bytes: int = 0
    error_bytes: int = 0


class Part(BaseModel):
    """Blocks `first_block` to `end_block` (exclusive) assembled: their lines in input order, in their final form,
    one object for the output file and one for the error file (None where they hold no line of it)."""

    batch_id: str
    first_block: int
    end_block: int
    output_key: str | None = None
    output_bytes: int = 0
    error_key: str | None = None
    error_bytes: int = 0

    def piece(self, stream: Stream) -> tuple[str, int] | None:
        """This part's object of `stream` and its size, if it has one."""
        key, size = (self.output_key, self.output_bytes) if stream == "output" else (self.error_key, self.error_bytes)
        return (key, size) if key else None
