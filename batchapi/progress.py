"""A live progress line: done/total, failed, rate and ETA; redrawn in place on a terminal."""

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total = total
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._last: tuple[int, int, str] | None = None

    def update(self, done: int, failed: int, status: str) -> None:
        """On a terminal the line is redrawn every time (the rate moves); elsewhere only when counts change."""
        if not self.tty and (done, failed, status) == self._last:
            return
        self._last = (done, failed, status)
        line = self.render(done, failed, status, time.monotonic() - self.started)
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def render(self, done: int, failed: int, status: str, elapsed: float) -> str:
        fraction = done / self.total if self.total else 1.0
        filled = int(fraction * self.width)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"{(self.total - done) / rate:.0f}s" if rate > 0 and done < self.total else "-"
        bar = "#" * filled + "." * (self.width - filled)
        return f"[{bar}] {done}/{self.total} {fraction:4.0%}  failed {failed}  {rate:.1f} lines/s  ETA {eta}  {status}"
