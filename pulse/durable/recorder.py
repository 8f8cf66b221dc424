"""Record, per symbol, the last accepted tick of each grid cell and the cell's tick count.

The recorder does not judge ticks: it records what the engine accepted. :meth:`attach` makes
:meth:`record` the engine's ``on_accept`` observer, called from the engine's own accept
paths with each accepted tick at the time and price the engine applied it (a held print
when its level is confirmed, a late tick at the newer last it did not replace), so a
recorded close is by construction the close the engine used, whatever its input rules
(plausibility filter, late ticks, dedupe) are. ``on_restart`` makes a symbol the engine
restarts start over here too (:meth:`forget`). ``record`` is O(1) on the hot path: a dict
lookup and a few assignments. ``flush`` hands the touched minutes to the database in one
upsert, off the hot path; the open minute is rewritten on each flush, so a kill -9 loses at
most one flush interval of recording.

As an ingest service (``pulse.ingest.services``) it flushes every ``flush_interval`` and
prunes every ``prune_interval`` seconds while the pipeline runs, flushes once more on the way
out, and reports under ``recording`` in the health document.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from channels.db import database_sync_to_async

from pulse.durable.codec import Cell
from pulse.durable.recording_store import MinuteRow, prune_before, save_minutes
from pulse.engine import Engine
from pulse.engine.config import EngineConfig
from pulse.ingest.services import Service, every

logger = logging.getLogger(__name__)

INF = math.inf


class _Track:
    """What the recorder keeps about one symbol: its open minute and its last time."""

    __slots__ = ("asset", "cell", "cells", "dirty", "last_ts", "minute", "slot")

    def __init__(self, asset: str) -> None:
        self.asset = asset
        self.minute: int | None = None
        self.cell: int | None = None  # the cell ``slot`` belongs to
        self.slot: list[Any] = []
        # offset -> [count, ts, price, bid, ask] of the open minute (lists: mutated in place)
        self.cells: dict[int, list[Any]] = {}
        self.dirty = False
        self.last_ts = -INF


class Recorder(Service):
    """Collect cells in memory and write them per (symbol, minute) on :meth:`flush`."""

    name = "recording"

    def __init__(self, config: EngineConfig | None = None, *, retention: float = 7200.0,
                 flush_interval: float = 5.0, prune_interval: float = 300.0) -> None:
        cfg = config if config is not None else EngineConfig()
        if not retention > 0:
            raise ValueError(f"retention must be positive seconds, got {retention!r}")
        self.step = float(cfg.grid_step)
        self.per_minute = max(1, round(60.0 / self.step))
        self.retention = float(retention)
        self.flush_interval = flush_interval
        self.prune_interval = prune_interval
        self.tracks: dict[str, _Track] = {}
        # Closed minutes waiting for the next flush: (symbol, minute) -> (asset, cells).
        self._closed: dict[tuple[str, int], tuple[str, list[Cell]]] = {}
        self.latest_ts = -INF
        self.observed = 0
        self.restarts = 0
        self.rows_written = 0
        self.failures = 0
        self.last_error = ""

    def attach(self, engine: Engine) -> None:
        """Record what ``engine`` accepts from now on (it has one recorder at a time)."""
        engine.on_accept = self.record
        engine.on_restart = self.forget

    # -- hot path ------------------------------------------------------------------------

    def record(self, symbol: str, asset: str, ts: float, price: float, bid: float | None,
               ask: float | None) -> None:
        """Record one tick the engine accepted, applied at ``ts`` and ``price`` with the
        symbol's quote ``bid``/``ask`` after it (the engine's ``on_accept``; O(1)).

        The engine hands a symbol's ticks over in non-decreasing ``ts`` (until it restarts
        the symbol, see :meth:`forget`), so a tick either extends the open cell or opens a
        later one.
        """
        tr = self.tracks.get(symbol)
        if tr is None:
            tr = self.tracks[symbol] = _Track(asset)
        tr.last_ts = ts
        cell = int(ts // self.step)
        if cell == tr.cell:  # fast path: another tick in the same cell
            slot = tr.slot
            slot[0] += 1
            slot[1] = ts
            slot[2] = price
            slot[3] = bid
            slot[4] = ask
        else:
            self._new_cell(symbol, tr, cell, ts, price, bid, ask)
        tr.dirty = True
        if ts > self.latest_ts:
            self.latest_ts = ts
        self.observed += 1

    def forget(self, symbol: str) -> None:
        """Start ``symbol`` over, as the engine just did (the engine's ``on_restart``).

        The engine restarts a symbol whose last time was bogus (a clock reset) or whose
        first print was (a re-anchor), and drops everything it had accepted for it; the
        cells not yet written go too, so the bogus tick is not recorded. Its next cells
        rewrite the rows of the minutes they fall in. ``latest_ts`` (the retention clock)
        is recomputed without the symbol, so a bogus future time cannot prune real minutes.
        """
        tr = self.tracks.pop(symbol, None)
        if tr is None:
            return
        self.restarts += 1
        for key in [key for key in self._closed if key[0] == symbol]:
            del self._closed[key]
        self.latest_ts = max((t.last_ts for t in self.tracks.values()), default=-INF)

    def _new_cell(self, symbol: str, tr: _Track, cell: int, ts: float, p: float,
                  bid: float | None, ask: float | None) -> None:
        """Open ``cell`` for ``symbol``, closing the open minute if the cell starts a new one."""
        minute, offset = divmod(cell, self.per_minute)
        if minute != tr.minute:
            if tr.cells and tr.minute is not None:
                self._closed[symbol, tr.minute] = (tr.asset, self._cells(tr))
            tr.cells = {}
            tr.minute = minute
        slot = tr.cells.get(offset)
        if slot is None:
            slot = tr.cells[offset] = [1, ts, p, bid, ask]
        else:  # a cell restored from the recording after a warm start
            slot[0] += 1
            slot[1:] = [ts, p, bid, ask]
        tr.cell = cell
        tr.slot = slot

    # -- restart ---------------------------------------------------------------------------

    def restore(self, symbol: str, asset: str, start: float, cells: list[Cell]) -> None:
        """Continue ``symbol``'s open minute after a warm start instead of overwriting it.

        ``start`` is the minute's first second; ``cells`` are the recorded cells. The next
        live ticks of that minute add to the recorded counts.
        """
        tr = self.tracks.get(symbol) or _Track(asset)
        self.tracks[symbol] = tr
        tr.minute = round(start / self.step) // self.per_minute
        tr.cells = {c.offset: [c.count, c.ts, c.price, c.bid, c.ask] for c in cells}
        tr.dirty = False
        tr.cell = None  # the next tick reopens its cell through the slow path
        if cells:
            last = max(cells, key=lambda c: c.offset)
            tr.last_ts = last.ts
            self.latest_ts = max(self.latest_ts, last.ts)

    # -- off the hot path ----------------------------------------------------------------

    @staticmethod
    def _cells(tr: _Track) -> list[Cell]:
        return [Cell(off, s[0], s[1], s[2], s[3], s[4]) for off, s in tr.cells.items()]

    def _minute_start(self, minute: int) -> int:
        return round(minute * self.per_minute * self.step)

    def take_rows(self) -> list[MinuteRow]:
        """Return the rows to write now (closed minutes and dirty open ones), and reset."""
        rows = [(symbol, asset, self._minute_start(minute), cells)
                for (symbol, minute), (asset, cells) in self._closed.items()]
        self._closed = {}
        for symbol, tr in self.tracks.items():
            if tr.dirty and tr.cells and tr.minute is not None:
                rows.append((symbol, tr.asset, self._minute_start(tr.minute), self._cells(tr)))
                tr.dirty = False
        return rows

    def _requeue(self, rows: list[MinuteRow]) -> None:
        """Keep rows whose write failed for the next flush, dropping those past retention."""
        cutoff = self.latest_ts - self.retention - 60.0
        for symbol, asset, start, cells in rows:
            minute = round(start / self.step) // self.per_minute
            tr = self.tracks.get(symbol)
            if tr is not None and tr.minute == minute:
                tr.dirty = True  # still open: the next flush writes its newest cells
            elif start >= cutoff:
                self._closed.setdefault((symbol, minute), (asset, cells))

    async def flush(self) -> int:
        """Write what changed since the last flush; return rows written (0 on error)."""
        rows = self.take_rows()
        if not rows:
            return 0
        try:
            written = await database_sync_to_async(save_minutes)(rows)
        except Exception as exc:  # keep the rows; the database may come back
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._requeue(rows)
            return 0
        self.rows_written += written
        self.last_error = ""
        return written

    async def prune(self) -> int:
        """Delete recorded minutes older than the retention (by event time); return count."""
        if self.latest_ts == -INF:
            return 0
        return await database_sync_to_async(prune_before)(self.latest_ts - self.retention)

    # -- as an ingest service ------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Flush and prune periodically until ``stop`` is set."""
        await asyncio.gather(every(stop, self.flush_interval, self.flush),
                             every(stop, self.prune_interval, self.prune))

    async def stop(self) -> None:
        """Write the last cells on the way out."""
        try:
            await self.flush()
        except Exception as exc:  # the recording is a cache: losing its tail is allowed
            logger.warning("final recording flush failed: %s", exc)

    def health(self) -> dict[str, Any]:
        """Return :meth:`stats` as the ``recording`` section of the health document."""
        return self.stats()

    def stats(self) -> dict[str, Any]:
        """Return counters for the health document."""
        return {"symbols": len(self.tracks), "observed": self.observed,
                "restarts": self.restarts,
                "rows_written": self.rows_written, "pending_closed": len(self._closed),
                "failures": self.failures, "last_error": self.last_error,
                "retention": self.retention}
