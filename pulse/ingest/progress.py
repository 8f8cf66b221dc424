"""A terminal progress bar for long replays (drawn on stderr only when it is a terminal)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO


def count_lines(paths: Iterable[Path], needle: bytes = b"\n") -> int:
    """Return how often ``needle`` occurs in ``paths`` (lines by default; gzip transparent).

    A replay of Binance recordings counts trade messages instead of lines, since the other
    streams in those files produce no ticks.
    """
    total = 0
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            tail = b""
            while block := handle.read(1 << 20):
                chunk = tail + block
                total += chunk.count(needle)
                # keep a needle's length minus one so a match split across blocks counts once
                tail = chunk[-(len(needle) - 1):] if len(needle) > 1 else b""
    return total


class Progress:
    """Redraw ``[#####.....]  42%  420,000 ticks  105,000/s`` at most a few times a second."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self._last_draw = 0.0

    def update(self, done: int) -> None:
        """Redraw for ``done`` ticks processed, rate-limited to 5 redraws a second."""
        now = time.monotonic()
        if now - self._last_draw < 0.2:
            return
        self._last_draw = now
        self._draw(done, now)

    def _draw(self, done: int, now: float) -> None:
        fraction = min(1.0, done / self.total)
        filled = int(fraction * self.width)
        rate = done / max(now - self.started, 1e-9)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {done:,} ticks {rate:,.0f}/s")
        self.stream.flush()

    def finish(self) -> None:
        """Draw the final state and end the line."""
        self._draw(self.total, time.monotonic())
        self.stream.write("\n")
        self.stream.flush()
