"""Rolling sums over the last ``cells`` grid cells, updated one cell at a time.

Each cell's contribution is kept in a ring so that the value leaving the window is
subtracted exactly as it was added; a full exact re-sum once per window length keeps
floating-point drift from accumulating (O(1) amortized).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence


class RollingSums:
    """Sums of ``width`` per-cell values over the last ``cells`` cells.

    ``cursor`` is the index of the last cell pushed; cells must be pushed in order with no
    gaps (use :meth:`restart` to jump).
    """

    __slots__ = ("cells", "cursor", "pushes", "ring", "sums", "width")

    def __init__(self, width: int, cells: int, cursor: int) -> None:
        """Start empty with ``cursor`` as the last (virtual, all-zero) cell pushed."""
        self.width = width
        self.cells = cells
        self.ring = array("d", bytes(8 * width * cells))
        self.sums = [0.0] * width
        self.cursor = cursor
        self.pushes = 0

    def restart(self, cursor: int) -> None:
        """Forget every cell and continue after ``cursor``."""
        self.ring = array("d", bytes(8 * self.width * self.cells))
        self.sums = [0.0] * self.width
        self.cursor = cursor
        self.pushes = 0

    def push(self, values: Sequence[float]) -> None:
        """Add the next cell's values, dropping the cell that falls out of the window."""
        self.cursor += 1
        w = self.width
        base = (self.cursor % self.cells) * w
        ring = self.ring
        sums = self.sums
        for j in range(w):
            sums[j] += values[j] - ring[base + j]
            ring[base + j] = values[j]
        self._count_push()

    def advanced(self, last: int) -> None:
        """Record that a caller wrote cells up to ``last`` into the ring and sums directly.

        Fast paths update ``ring[m % cells]`` and ``sums`` inline for cells
        ``cursor + 1 .. last`` and then call this to move the cursor and keep the periodic
        exact re-sum.
        """
        self.pushes += last - self.cursor - 1
        self.cursor = last
        self._count_push()

    def resum(self) -> None:
        """Recompute the sums exactly from the ring (drops accumulated rounding drift)."""
        w = self.width
        ring = self.ring
        self.sums = [math.fsum(ring[j::w]) for j in range(w)]
        self.pushes = 0

    def _count_push(self) -> None:
        """Count a push and re-sum exactly once per window length of pushes."""
        self.pushes += 1
        if self.pushes >= self.cells:
            self.resum()
