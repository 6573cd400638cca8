"""A live progress line: done/total, failed, the current pace, ETA and the lines waiting for upstream capacity;
redrawn in place on a terminal."""

import sys
import time
from collections import deque
from typing import Any, TextIO

PACE_SECONDS = 10.0


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total = total
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._last: tuple[int, int, str, int] | None = None
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, done: int, failed: int, status: str, waiting: dict[str, Any] | None = None) -> None:
        """On a terminal the line is redrawn every time (the pace moves); elsewhere only when counts change.
        `waiting` is the batch's `waiting_for_capacity` (lines, since)."""
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and self._samples[1][0] <= now - PACE_SECONDS:
            self._samples.popleft()
        held = (int(waiting["lines"]), time.time() - float(waiting["since"] or time.time())) if waiting else None
        if not self.tty and (done, failed, status, held[0] if held else 0) == self._last:
            return
        self._last = (done, failed, status, held[0] if held else 0)
        line = self.render(done, failed, status, now - self.started, pace=self._pace(), waiting=held)
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def render(
        self,
        done: int,
        failed: int,
        status: str,
        elapsed: float,
        pace: float | None = None,
        waiting: tuple[int, float] | None = None,
    ) -> str:
        """`pace`: lines a second lately (else the average since the start); `waiting`: lines held back for the
        upstream's capacity and for how many seconds."""
        fraction = done / self.total if self.total else 1.0
        filled = int(fraction * self.width)
        rate = pace if pace is not None else (done / elapsed if elapsed > 0 else 0.0)
        eta = f"{(self.total - done) / rate:.0f}s" if rate > 0 and done < self.total else "-"
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done}/{self.total} {fraction:4.0%}  failed {failed}  {rate:.1f} lines/s  ETA {eta}  {status}"
        if waiting:
            line += f"  waiting for capacity {waiting[0]} ({waiting[1]:.0f}s)"
        return line

    def _pace(self) -> float | None:
        (first, done_then), (last, done_now) = self._samples[0], self._samples[-1]
        return (done_now - done_then) / (last - first) if last - first >= 1.0 else None
