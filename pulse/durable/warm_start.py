"""Feed the recording into an engine: warm start before live ticks, and replay.

The recording holds the last tick of every grid cell, which is all the grid-based metrics
read (returns, realized vol, trend, baseline, regime, correlation samples), so those come
back exactly. With ``counts`` the cell's other ticks are replayed as fillers at the cell's
last price and time, so tick counts and ``tick_rate`` match too. Events the engine fires
during warm-up are counted and dropped: they were persisted and broadcast by the process
that saw them live, and must not be sent again. Nor is the recording recorded again: the
engine's acceptance observers (the live recorder) are detached while it is fed.
:class:`WarmStart` runs it as an ingest service, once, before the feeds start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from pulse.durable.codec import Cell
from pulse.durable.recorder import Recorder
from pulse.durable.recording_store import MinuteRow, load_minutes
from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import SymbolRef
from pulse.ingest.services import Service


def minute_ticks(rows: list[MinuteRow], *, counts: bool = True) -> Iterator[Tick]:
    """Yield the ticks of some recorded minutes in event-time order (stable by symbol).

    Rows must cover whole minutes in ascending order: cells are merged across symbols one
    minute at a time, which keeps the global order without loading everything.
    """
    i = 0
    while i < len(rows):
        start = rows[i][2]
        j = i
        while j < len(rows) and rows[j][2] == start:
            j += 1
        cells = [(c.ts, symbol, asset, c) for symbol, asset, _, cs in rows[i:j] for c in cs]
        cells.sort(key=lambda item: (item[0], item[1]))
        for _, symbol, asset, c in cells:
            yield from cell_ticks(symbol, asset, c, counts=counts)
        i = j


def cell_ticks(symbol: str, asset: str, c: Cell, *, counts: bool = True) -> Iterator[Tick]:
    """Yield the tick(s) that reproduce one recorded cell: ``count - 1`` fillers and the
    cell's last tick, all at its time, price and quote (the engine dedupes by trade id only,
    so identical id-less ticks each count).
    """
    for _ in range(max(c.count, 1) if counts else 1):
        yield Tick(symbol, asset, c.ts, c.price, bid=c.bid, ask=c.ask, provider="recording")


def recorded_ticks(since: float, until: float | None = None,
                   symbols: Iterable[str] | None = None, *,
                   counts: bool = True) -> Iterator[Tick]:
    """Yield the recording from ``since`` (epoch s) in event-time order (synchronous ORM)."""
    batch: list[MinuteRow] = []
    for row in load_minutes(since, until, symbols):
        if batch and row[2] != batch[-1][2]:
            yield from minute_ticks(batch, counts=counts)
            batch = []
        batch.append(row)
    yield from minute_ticks(batch, counts=counts)


@dataclass
class WarmStartReport:
    """What a warm start fed into the engine."""

    minutes: int = 0
    ticks: int = 0
    events_dropped: int = 0
    symbols: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (for logs and the health document)."""
        return dict(self.__dict__)


def _load(since: float, until: float | None, symbols: list[str] | None) -> list[MinuteRow]:
    return list(load_minutes(since, until, symbols))


async def warm_start(engine: Engine, since: float, *, until: float | None = None,
                     symbols: Iterable[str] | None = None, recorder: Recorder | None = None,
                     counts: bool = True, chunk_minutes: int = 10) -> WarmStartReport:
    """Feed the recording since ``since`` (epoch s) into a fresh ``engine``; drop its events.

    Call before the first live tick. ``recorder`` (the live recorder of this process) gets
    each symbol's newest recorded minute back so that its next flush extends that minute
    instead of replacing it. Yields to the event loop between chunks of ``chunk_minutes``.
    """
    wall0 = time.perf_counter()
    report = WarmStartReport()
    names = None if symbols is None else sorted(symbols)
    newest: dict[str, MinuteRow] = {}
    observers = engine.on_accept, engine.on_restart
    engine.on_accept = engine.on_restart = None  # the recording is not recorded again
    try:
        await _feed(engine, since, until, names, counts, chunk_minutes, report, newest)
    finally:
        engine.on_accept, engine.on_restart = observers
    if recorder is not None:
        for symbol, asset, start, cells in newest.values():
            recorder.restore(symbol, asset, start, cells)
    engine.take_changed()  # warm-up is not news: the first flush sends what moves live
    report.symbols = len(newest)
    report.seconds = time.perf_counter() - wall0
    return report


async def _feed(engine: Engine, since: float, until: float | None, names: list[str] | None,
                counts: bool, chunk_minutes: int, report: WarmStartReport,
                newest: dict[str, MinuteRow]) -> None:
    """Feed the recording into ``engine`` chunk by chunk; fill ``report`` and ``newest``
    (each symbol's newest recorded minute)."""
    on_tick = engine.on_tick
    lower = since
    while True:
        upper = lower + 60.0 * chunk_minutes
        if until is not None:
            upper = min(upper, until)
        rows = await database_sync_to_async(_load)(lower, upper, names)
        for tick in minute_ticks(rows, counts=counts):
            fired = on_tick(tick)
            report.ticks += 1
            if fired:
                report.events_dropped += len(fired)
            if report.first_ts is None:
                report.first_ts = tick.ts
            report.last_ts = tick.ts
        for row in rows:
            newest[row[0]] = row
        report.minutes += len(rows)
        if until is not None and upper >= until:
            break
        lower = upper
        if not rows:
            # Skip a gap in the recording (the process was down) in one step.
            nxt = await database_sync_to_async(_next_start)(upper, names)
            if nxt is None:
                break
            lower = max(upper, nxt)
        await asyncio.sleep(0)


def _next_start(start: float, symbols: list[str] | None) -> float | None:
    row = next(iter(load_minutes(start, None, symbols, chunk=1)), None)
    return None if row is None else float(row[2])


class WarmStart(Service):
    """Feed the last ``retention`` seconds of the recording into ``engine`` on :meth:`start`.

    A start-only ingest service (``pulse.ingest.services``), registered after the metrics
    server and before the feeds start. With ``symbols`` (a sharded process) only the
    symbols that source returns are loaded. A failure is reported through ``warn`` and
    leaves a cold engine; success through ``say``, and :attr:`report` holds what was fed.
    """

    def __init__(self, engine: Engine, *, retention: float, recorder: Recorder | None = None,
                 symbols: Callable[[], Awaitable[list[SymbolRef]]] | None = None,
                 say: Callable[[str], Any] = print, warn: Callable[[str], Any] = print) -> None:
        self.engine = engine
        self.retention = retention
        self.recorder = recorder
        self.symbols = symbols
        self.say = say
        self.warn = warn
        self.report: WarmStartReport | None = None

    async def start(self) -> None:
        """Replay the recorded recent market into the engine (its events are not re-sent)."""
        symbols = None if self.symbols is None else [ref.symbol for ref in await self.symbols()]
        since = time.time() - self.retention
        try:
            report = await warm_start(self.engine, since, recorder=self.recorder,
                                      symbols=symbols)
        except Exception as exc:  # a cold start is worse than none only in comfort
            self.warn(f"warm start skipped: {type(exc).__name__}: {exc}")
            return
        self.report = report
        self.say(f"warm start: {report.ticks} recorded ticks of {report.symbols} symbols in "
                 f"{report.seconds:.2f} s")
