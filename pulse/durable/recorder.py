"""Record, per symbol, the last accepted tick of each grid cell and the cell's tick count.

``observe`` runs on the hot path beside ``Engine.on_tick``: O(1), a dict lookup and a few
assignments. It mirrors the engine's acceptance rules (bad prices, out-of-order beyond the
tolerance, duplicates, timestamps far in the future) so that the recorded close of a cell
is the close the engine used. ``flush`` hands the touched minutes to the database in one
upsert, off the hot path; the open minute is rewritten on each flush, so a kill -9 loses at
most one flush interval of recording.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from pulse.durable.codec import Cell
from pulse.durable.recording_store import MinuteRow, prune_before, save_minutes
from pulse.engine.config import EngineConfig
from pulse.engine.tick import ASSET_CLASSES, Tick

INF = math.inf


def _as_float(value: Any) -> float | None:
    """Return ``value`` as a float the way the engine coerces it (no bool, text or None)."""
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


class _Track:
    """What the recorder keeps about one symbol: its open minute and the last tick."""

    __slots__ = ("ask", "asset", "bid", "cell", "cells", "dirty", "id_queue", "ids",
                 "last_price", "last_size", "last_ts", "minute", "slot")

    def __init__(self, asset: str) -> None:
        self.asset = asset
        self.minute: int | None = None
        self.cell: int | None = None  # the cell ``slot`` belongs to
        self.slot: list[Any] = []
        # offset -> [count, ts, price, bid, ask] of the open minute (lists: mutated in place)
        self.cells: dict[int, list[Any]] = {}
        self.dirty = False
        self.last_ts = -INF
        self.last_price = 0.0
        self.last_size: float | None = None
        self.bid: float | None = None
        self.ask: float | None = None
        self.ids: set[Any] = set()
        self.id_queue: deque[Any] = deque()


class Recorder:
    """Collect cells in memory and write them per (symbol, minute) on :meth:`flush`."""

    def __init__(self, config: EngineConfig | None = None, *, retention: float = 7200.0) -> None:
        cfg = config if config is not None else EngineConfig()
        if not retention > 0:
            raise ValueError(f"retention must be positive seconds, got {retention!r}")
        self.step = float(cfg.grid_step)
        self.per_minute = max(1, round(60.0 / self.step))
        self.tolerance = cfg.out_of_order_tolerance
        self.future = INF if cfg.future_tolerance is None else cfg.future_tolerance
        self.id_memory = cfg.duplicate_id_memory
        self.retention = float(retention)
        self.tracks: dict[str, _Track] = {}
        # Closed minutes waiting for the next flush: (symbol, minute) -> (asset, cells).
        self._closed: dict[tuple[str, int], tuple[str, list[Cell]]] = {}
        self.latest_ts = -INF
        self.observed = 0
        self.rows_written = 0
        self.failures = 0
        self.last_error = ""

    # -- hot path ------------------------------------------------------------------------

    def observe(self, tick: Tick) -> None:
        """Record one tick if the engine would accept it (O(1))."""
        p, ts = tick.price, tick.ts
        if p.__class__ is not float or ts.__class__ is not float:
            p, ts = _as_float(p), _as_float(ts)
            if p is None or ts is None:
                return
        try:
            if not (0.0 < p < INF and -INF < ts < INF) or ts - tick.recv_ts > self.future:
                return
        except TypeError:
            return
        symbol = tick.symbol
        tr = self.tracks.get(symbol)
        if tr is None:
            if not isinstance(symbol, str) or not symbol or tick.asset not in ASSET_CLASSES:
                return
            tr = self.tracks[symbol] = _Track(tick.asset)
        elif ts < tr.last_ts:
            if ts < tr.last_ts - self.tolerance:
                return
            ts = tr.last_ts
        trade_id = tick.trade_id
        if trade_id is not None:
            if trade_id in tr.ids:
                return
            if len(tr.id_queue) >= self.id_memory:
                tr.ids.discard(tr.id_queue.popleft())
            tr.id_queue.append(trade_id)
            tr.ids.add(trade_id)
        elif ts == tr.last_ts and p == tr.last_price and tick.size == tr.last_size:
            return
        tr.last_ts = ts
        tr.last_price = p
        tr.last_size = tick.size
        bid = tick.bid
        if bid is not None:
            try:  # quotes are informational: a bad one is ignored, as the engine does
                if 0.0 < bid < INF:
                    tr.bid = float(bid)
                ask = tick.ask
                if ask is not None and 0.0 < ask < INF:
                    tr.ask = float(ask)
            except TypeError:
                pass
        cell = int(ts // self.step)
        if cell == tr.cell:  # fast path: another tick in the same cell
            slot = tr.slot
            slot[0] += 1
            slot[1] = ts
            slot[2] = p
            slot[3] = tr.bid
            slot[4] = tr.ask
        else:
            self._new_cell(symbol, tr, cell, ts, p)
        tr.dirty = True
        if ts > self.latest_ts:
            self.latest_ts = ts
        self.observed += 1

    def _new_cell(self, symbol: str, tr: _Track, cell: int, ts: float, p: float) -> None:
        """Open ``cell`` for ``symbol``, closing the open minute if the cell starts a new one."""
        minute, offset = divmod(cell, self.per_minute)
        if minute != tr.minute:
            if tr.cells and tr.minute is not None:
                self._closed[symbol, tr.minute] = (tr.asset, self._cells(tr))
            tr.cells = {}
            tr.minute = minute
        slot = tr.cells.get(offset)
        if slot is None:
            slot = tr.cells[offset] = [1, ts, p, tr.bid, tr.ask]
        else:  # a cell restored from the recording after a warm start
            slot[0] += 1
            slot[1:] = [ts, p, tr.bid, tr.ask]
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
            tr.last_ts, tr.last_price = last.ts, last.price
            tr.bid, tr.ask = last.bid, last.ask
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

    def stats(self) -> dict[str, Any]:
        """Return counters for the health document."""
        return {"symbols": len(self.tracks), "observed": self.observed,
                "rows_written": self.rows_written, "pending_closed": len(self._closed),
                "failures": self.failures, "last_error": self.last_error,
                "retention": self.retention}
