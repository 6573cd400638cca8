"""The custom ids a batch's lines have used so far, kept in a SQLite file on local disk: a million lines' ids take
no more memory than ten lines' do."""

import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

# Ids go to the file this many at a time, in one call. A call per line would let go of the interpreter lock per
# line, and in a process whose other threads are busy (prepare's writers) wait to get it back each time.
_IDS_PER_WRITE = 1000


class Duplicate(NamedTuple):
    line: int
    custom_id: str
    first_line: int


class SeenIds:
    """Used as a context manager: the file is gone when the block ends."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="custom-ids-")
        self._db = sqlite3.connect(Path(self._folder.name) / "ids.sqlite", isolation_level=None)
        # The file lives as long as one validation: nothing to recover after a crash, so no journal and no syncs.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE", "cache_size=-8000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE seen (custom_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        self._pending: list[tuple[str, int]] = []

    def __enter__(self) -> "SeenIds":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._db.close()
        self._folder.cleanup()

    def add(self, custom_id: str, line: int) -> list[Duplicate]:
        """Records that `line` uses `custom_id`. Returns the duplicates among the ids recorded since the last
        write when this one fills a write: lines are checked a write at a time, and the rest by `flush`."""
        self._pending.append((custom_id, line))
        return self.flush() if len(self._pending) >= _IDS_PER_WRITE else []

    def flush(self) -> list[Duplicate]:
        """Writes the ids recorded since the last write; the lines among them whose id an earlier line used."""
        pending, self._pending = self._pending, []
        before = self._db.total_changes
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pending)
        self._db.execute("COMMIT")
        if self._db.total_changes - before == len(pending):
            return []
        return [
            Duplicate(line, custom_id, first)
            for custom_id, line in pending
            if (first := self._db.execute("SELECT line FROM seen WHERE custom_id = ?", (custom_id,)).fetchone()[0])
            != line
        ]
