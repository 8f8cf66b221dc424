"""Drive the engine over recorded files (or any tick source, such as the database recording
of ``replay --from-db``): the core of ``manage.py replay`` and its benchmark.

No Django here, no event loop: a tight loop over merged readers, with the correlation matrix
recomputed every ``corr_every`` seconds of event time (not wall time, so results do not
depend on how fast the machine is). With a ``speed`` factor the loop sleeps to pace event
time at that multiple of real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import FeedCounters
from pulse.feeds.replay import merge_by_time, read_binance, read_ticks
from pulse.ingest.event_log import EventLog
from pulse.ingest.summary import build_summary


class ReplayRun:
    """One replay of ``paths`` through ``engine``; call :meth:`run`, then :meth:`summary`.

    ``source`` replaces the files: a callable returning the ticks in event-time order.
    ``event_log`` receives every emitted stress event (``replay --events``).
    """

    def __init__(
        self,
        engine: Engine,
        paths: Sequence[Path],
        *,
        fmt: str = "ticks",
        speed: float | None = None,
        corr_every: float = 2.0,
        corr_symbols: int = 20,
        corr_window: float | None = None,
        corr_method: str | None = None,
        progress: Any = None,
        source: Callable[[], Iterator[Tick]] | None = None,
        event_log: EventLog | None = None,
    ) -> None:
        if fmt not in ("ticks", "binance", "recording"):
            raise ValueError(f"unknown format {fmt!r}")
        self.engine = engine
        self.paths = list(paths)
        self.fmt = fmt
        self.speed = speed
        self.corr_every = corr_every
        self.corr_symbols = corr_symbols
        self.corr_window = corr_window
        self.corr_method = corr_method
        self.progress = progress
        self.source = source
        self.event_log = event_log
        self.counters = FeedCounters()
        self.ticks = 0
        self.emitted = 0
        self.seconds = 0.0
        self.corr_refreshes = 0
        self.correlation: dict[str, Any] = {"symbols": [], "matrix": []}
        self._corr_order: list[str] = []

    def _ticks(self) -> Iterator[Tick]:
        if self.source is not None:
            return self.source()
        reader = read_binance if self.fmt == "binance" else read_ticks
        sources = [reader(path, self.counters) for path in self.paths]
        return sources[0] if len(sources) == 1 else merge_by_time(sources)

    def _corr_universe(self) -> list[str]:
        """Return the first ``corr_symbols`` symbols in order of first appearance."""
        if len(self._corr_order) < self.corr_symbols:
            known = set(self._corr_order)
            for symbol in self.engine.symbols():
                if symbol not in known and len(self._corr_order) < self.corr_symbols:
                    self._corr_order.append(symbol)
                    known.add(symbol)
        return self._corr_order

    def refresh_correlation(self) -> dict[str, Any]:
        """Recompute the correlation matrix now (event time)."""
        symbols = self._corr_universe()
        if symbols:
            self.correlation = self.engine.correlation(
                symbols, base=symbols[0], window=self.corr_window, method=self.corr_method
            )
            self.corr_refreshes += 1
        return self.correlation

    def run(self) -> None:
        """Process every tick; on KeyboardInterrupt the counts so far remain valid."""
        on_tick = self.engine.on_tick
        corr_every = self.corr_every
        speed = self.speed
        progress = self.progress
        log = None if self.event_log is None else self.event_log.add
        next_corr: float | None = None
        wall0 = time.perf_counter()
        event0: float | None = None
        n = 0
        emitted = 0
        try:
            for tick in self._ticks():
                ts = tick.ts
                if speed is not None:
                    if event0 is None:
                        event0 = ts
                    delay = (ts - event0) / speed - (time.perf_counter() - wall0)
                    if delay > 0:
                        time.sleep(delay)
                fired = on_tick(tick)
                n += 1
                if fired:
                    emitted += len(fired)
                    if log is not None:
                        log(fired)
                if next_corr is None:
                    next_corr = ts + corr_every
                elif ts >= next_corr:
                    self.ticks, self.emitted = n, emitted
                    self.refresh_correlation()
                    next_corr = ts + corr_every
                    if progress is not None:
                        progress.update(n)
        finally:
            self.seconds = time.perf_counter() - wall0
            self.ticks, self.emitted = n, emitted
            self.counters.ticks = n
        self.refresh_correlation()

    def bytes_per_symbol(self) -> int:
        """Return the mean engine state per symbol, in bytes (metrics, events, grid)."""
        symbols = self.engine.symbols()
        if not symbols:
            return 0
        return round(sum(self.engine.memory_bytes(s) for s in symbols) / len(symbols))

    def top_correlated(self, k: int = 3) -> list[dict[str, Any]]:
        """Return the ``k`` symbols most correlated with the first one (the base)."""
        symbols = self._corr_universe()
        if len(symbols) < 2:
            return []
        return self.engine.top_correlated(
            symbols[0], symbols, k, window=self.corr_window, method=self.corr_method
        )

    def summary(self) -> dict[str, Any]:
        """Return the summary document (see ``pulse.ingest.summary``)."""
        feed = self.counters.as_dict(now=0.0)
        feed.pop("last_message_age", None)
        return build_summary(
            ticks=self.ticks,
            seconds=self.seconds,
            symbols=self.engine.snapshots(),
            feeds={"replay": feed},
            emitted=self.emitted,
            persisted=0,
            correlation={**self.correlation, "top": self.top_correlated()},
            engine=self.engine.stats(),
            extra={
                "correlation_refreshes": self.corr_refreshes,
                "bytes_per_symbol": self.bytes_per_symbol(),
                "files": [str(path) for path in self.paths],
                "format": self.fmt,
            },
        )
