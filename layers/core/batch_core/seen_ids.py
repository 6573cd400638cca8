"""The custom ids a batch's lines have used so far, kept in a SQLite file on local disk: a million lines' ids take
no more memory than ten lines' do."""

import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType


class SeenIds:
    """Used as a context manager: the file is gone when the block ends."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="custom-ids-")
        self._db = sqlite3.connect(Path(self._folder.name) / "ids.sqlite", isolation_level=None)
        # The file lives as long as one validation: nothing to recover after a crash, so no journal and no syncs.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE", "cache_size=-8000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE seen (custom_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")

    def __enter__(self) -> "SeenIds":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._db.close()
        self._folder.cleanup()

    def first_line(self, custom_id: str, line: int) -> int | None:
        """Records that `line` uses `custom_id`; the line that used it first, if another did."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (custom_id, line)).rowcount:
            return None
        return int(self._db.execute("SELECT line FROM seen WHERE custom_id = ?", (custom_id,)).fetchone()[0])
