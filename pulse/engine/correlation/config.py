"""Settings of the correlation tracker, validated once so the hot path never has to.

Every default below is documented in ``docs/correlation.md``; the estimator choice behind
``method="kernel"`` is argued there with measured numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

KERNEL: Final = "kernel"
GRID_HY: Final = "grid_hy"
GRID: Final = "grid"
BUCKETED: Final = "bucketed"
RAW_HY: Final = "hy"

# Names accepted by ``method=``; the first is the default and the recommended estimator.
METHODS: Final[tuple[str, ...]] = (KERNEL, GRID_HY, GRID, BUCKETED, RAW_HY)

# Two steps count as multiples of each other within this relative slack (0.1 / 0.01 is not
# exactly 10 in binary floating point).
_MULTIPLE_SLACK: Final = 1e-9


@dataclass(frozen=True, slots=True)
class CorrelationConfig:
    """Tunable settings of :class:`~pulse.engine.correlation.tracker.CorrelationTracker`.

    - ``method``: default estimator, one of :data:`METHODS` (``kernel``: realized kernel of
      triangular pre-averaged returns of interpolated ``grid_step`` samples, bounded and
      positive semi-definite;
      ``grid_hy``: Hayashi-Yoshida on previous-tick samples, for comparison).
    - ``window``: default lookback in seconds of event time (900 = 15 minutes).
    - ``max_window``: longest lookback any query may use; bounds memory per symbol to about
      ``max_window / grid_step`` cells of 16 bytes. Longer requested windows are clamped.
    - ``grid_step``: seconds per cell of the sampling clock every symbol is stored on; also
      the sampling step of ``grid_hy``.
    - ``sample_step``: return horizon of ``grid`` (plain previous-tick grid returns), a
      multiple of ``grid_step``.
    - ``bucket_seconds``: bucket size of ``bucketed`` (the tutorial's method, which used 10,
      20 or 30 s), a multiple of ``grid_step``.
    - ``min_overlap``: fewest returns a pair must rest on before a number is reported.
    - ``raw_tick_capacity``: ticks kept per symbol for ``hy`` (Hayashi-Yoshida on raw ticks,
      kept for comparison only: O(ticks) per query); 0 disables ``hy``.
    - ``horizons``: return horizons in seconds the ``kernel`` may use (increasing multiples
      of ``grid_step``); a query takes the shortest that spans five mean observation gaps
      of its slowest symbol (``kernel.choose_horizon``).
    - ``interp_gap``: the ``kernel`` interpolates linearly over at most the last this many
      seconds before an observation (a multiple of ``grid_step``); it also answers this
      many seconds behind the newest closed cell, when every sample in its window is final.
    - ``max_books``: distinct (method, window) rolling states kept at once; the least
      recently used is dropped beyond it and rebuilt from the stored grid when asked again.
    """

    method: str = KERNEL
    window: float = 900.0
    max_window: float = 3600.0
    grid_step: float = 1.0
    sample_step: float = 5.0
    bucket_seconds: float = 10.0
    min_overlap: int = 30
    raw_tick_capacity: int = 0
    max_books: int = 8
    horizons: tuple[float, ...] = (10.0, 20.0, 30.0)
    interp_gap: float = 30.0

    def __post_init__(self) -> None:
        """Reject values that would make the tracker misbehave later, naming the setting."""
        if self.method not in METHODS:
            raise ValueError(f"method: unknown {self.method!r} (use one of {', '.join(METHODS)})")
        if isinstance(self.horizons, list):
            object.__setattr__(self, "horizons", tuple(self.horizons))
        if not isinstance(self.horizons, tuple) or not self.horizons:
            raise ValueError(f"horizons: expected a non-empty list of seconds, "
                             f"got {self.horizons!r}")
        for h in self.horizons:
            if isinstance(h, bool) or not isinstance(h, int | float) or not math.isfinite(h) \
                    or h <= 0:
                raise ValueError(f"horizons: expected positive numbers of seconds, got {h!r}")
        if list(self.horizons) != sorted(set(self.horizons)):
            raise ValueError(f"horizons: must be strictly increasing, got {self.horizons!r}")
        for name in ("window", "max_window", "grid_step", "sample_step", "bucket_seconds",
                     "interp_gap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name}: expected a number of seconds, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: must be a positive finite number, got {value!r}")
        for name in ("min_overlap", "raw_tick_capacity", "max_books"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: expected an integer, got {value!r}")
        if self.min_overlap < 2:
            raise ValueError(f"min_overlap: must be at least 2, got {self.min_overlap}")
        if self.raw_tick_capacity < 0:
            raise ValueError(f"raw_tick_capacity: must be >= 0, got {self.raw_tick_capacity}")
        if self.max_books < 1:
            raise ValueError(f"max_books: must be at least 1, got {self.max_books}")
        if self.window > self.max_window:
            raise ValueError(f"window: {self.window} exceeds max_window {self.max_window}")
        for name in ("sample_step", "bucket_seconds", "interp_gap"):
            steps_per_cell(getattr(self, name), self.grid_step, name)
        for h in self.horizons:
            steps_per_cell(h, self.grid_step, "horizons")
        if self.max_window < 2 * max(self.sample_step, self.bucket_seconds, self.horizons[-1]):
            raise ValueError("max_window: must span at least two sample steps, two buckets "
                             "and two kernel horizons")
        if self.method == RAW_HY and self.raw_tick_capacity == 0:
            raise ValueError("method: 'hy' needs raw_tick_capacity > 0 (raw ticks are not kept)")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CorrelationConfig:
        """Build a config from a settings mapping; raise ValueError naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown correlation setting(s): {', '.join(map(str, unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**dict(values))

    def step_cells(self, method: str) -> int:
        """Return how many ``grid_step`` cells one sampling step of ``method`` spans."""
        if method == GRID:
            return steps_per_cell(self.sample_step, self.grid_step, "sample_step")
        if method == BUCKETED:
            return steps_per_cell(self.bucket_seconds, self.grid_step, "bucket_seconds")
        return 1

    def horizon_cells(self) -> tuple[int, ...]:
        """Return the kernel horizons in ``grid_step`` cells."""
        return tuple(steps_per_cell(h, self.grid_step, "horizons") for h in self.horizons)

    def gap_cells(self) -> int:
        """Return ``interp_gap`` in ``grid_step`` cells."""
        return steps_per_cell(self.interp_gap, self.grid_step, "interp_gap")


def steps_per_cell(step: float, grid_step: float, name: str) -> int:
    """Return ``step / grid_step`` as an int; raise ValueError unless it is a whole number."""
    ratio = step / grid_step
    cells = round(ratio)
    if cells < 1 or abs(ratio - cells) > _MULTIPLE_SLACK * max(1.0, ratio):
        raise ValueError(f"{name}: {step} must be a whole multiple of grid_step {grid_step}")
    return cells
