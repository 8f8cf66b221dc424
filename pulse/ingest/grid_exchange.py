"""Share correlation grid samples between ingest shards, so every shard correlates them all.

With ``runpulse --shard i/n`` each process follows only its share of the symbols, yet a
page asks for the correlation of its whole watchlist. Once a second each shard publishes the
changed 1 s grid samples of its own symbols (``Engine.export_correlation_samples``: a few
dozen bytes per symbol) to :data:`~pulse.realtime.broadcast.GRID_GROUP`; every other shard places
them in its correlation tracker only (``Engine.import_correlation_samples``; snapshots,
events and the recording stay per shard). A shard's matrix then equals the matrix of one
process seeing every tick (``tests/engine/correlation/test_exchange.py``), answered
:data:`CORRELATION_LAG` seconds behind so that every symbol is complete up to the same cell.

Each batch repeats the last :data:`OVERLAP_CELLS` cells, so a message lost in a Redis blip
costs nothing; samples that arrive after their cell was already used count as late. A shard
that starts (or restarts) needs the others' history, not just their newest cells: its first
batch is *full* (every readable cell) and asks for a resend, and batches from a source not
yet seen in full are ignored until that source's next full batch, so history is never
skipped as "older than what is already placed". Large batches are split into messages of
at most :data:`MAX_ROWS_PER_MESSAGE` samples. As an ingest service it publishes once a
second and reports under ``grid_exchange`` in the health document; the pipeline also hands
it the batches the other shards send (``receive``) and asks it who leads.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import orjson

from pulse.engine import Engine
from pulse.ingest.services import Service, every
from pulse.realtime.broadcast import GRID_GROUP, GRID_SAMPLES

logger = logging.getLogger(__name__)

# Seconds behind the newest tick at which sharded ingest answers correlation: one export
# interval, one cell, the export margin, and slack for Redis and a busy event loop.
CORRELATION_LAG = 5.0
OVERLAP_CELLS = 5
MAX_SYMBOL = 32
MAX_ROWS_PER_MESSAGE = 10_000  # about 400 kB of JSON
RESEND_MIN_INTERVAL = 10.0  # seconds between two resend requests of one process


class GridExchange(Service):
    """Publish this shard's grid samples; take the other shards' (one per ingest process)."""

    name = "grid_exchange"
    publish_interval = 1.0

    def __init__(self, engine: Engine, layer: Any, source: str, *, leader: bool,
                 lag: float = CORRELATION_LAG) -> None:
        """``source`` names this process (its own messages come back and are skipped);
        ``leader`` (shard 0) answers the requests no shard owns the base symbol of.
        Sets ``engine.correlation_lag`` to ``lag``.
        """
        self.engine = engine
        self.layer = layer
        self.source = source
        self.leader = leader
        engine.correlation_lag = lag
        self.through: dict[str, int] = {}  # own symbol -> last cell exported
        self.full_pending = True  # next batch carries every readable cell
        self.resend_pending = True  # next batch asks the other shards for theirs
        self.last_resend = -RESEND_MIN_INTERVAL
        self.synced: set[str] = set()  # sources whose full batch was received
        self.published = 0
        self.publish_failed = 0
        self.received = 0
        self.rejected = 0
        self.placed = 0

    async def publish(self) -> int:
        """Send the samples of cells closed since the last call (all of them when a full
        batch is due); return how many samples were sent."""
        full = self.full_pending
        after = {} if full else {s: cell - OVERLAP_CELLS for s, cell in self.through.items()}
        through, samples = self.engine.export_correlation_samples(after)
        resend = self.resend_pending
        messages = _chunks({s: rows for s, rows in samples.items() if rows})
        if not messages and not resend:
            return 0
        sent = 0
        for chunk in messages or [{}]:
            message = {"type": GRID_SAMPLES, "src": self.source, "full": full,
                       "resend": resend, "samples": orjson.dumps(chunk).decode()}
            try:
                await self.layer.group_send(GRID_GROUP, message)
            except Exception as exc:  # Redis restarting: the overlap repairs short outages
                self.publish_failed += 1
                if self.publish_failed == 1 or self.publish_failed % 100 == 0:
                    logger.warning("grid samples not sent (%d so far): %s",
                                   self.publish_failed, exc)
                return sent  # nothing marked as exported: the next call sends it again
            sent += sum(len(rows) for rows in chunk.values())
        self.published += 1
        for symbol in samples:
            self.through[symbol] = through
        self.full_pending = self.resend_pending = False
        return sent

    def receive(self, message: dict[str, Any], now: float | None = None) -> int:
        """Place another shard's samples; return how many were new. Malformed batches are
        counted in ``rejected`` and ignored whole."""
        source = message.get("src")
        if source == self.source or not isinstance(source, str):
            return 0
        self.received += 1
        if message.get("resend"):
            self.full_pending = True  # a shard (re)started: it needs our history
        samples = _parse(message.get("samples"))
        if samples is None:
            self.rejected += 1
            return 0
        if message.get("full"):
            self.synced.add(source)
        elif source not in self.synced:
            self._ask_resend(time.monotonic() if now is None else now)
            return 0  # placing these first would make the source's history look stale
        placed = sum(self.engine.import_correlation_samples(symbol, rows)
                     for symbol, rows in samples.items())
        self.placed += placed
        return placed

    def _ask_resend(self, now: float) -> None:
        if now - self.last_resend >= RESEND_MIN_INTERVAL:
            self.last_resend = now
            self.resend_pending = True

    async def run(self, stop: asyncio.Event) -> None:
        """Publish every :attr:`publish_interval` seconds until ``stop`` is set."""
        await every(stop, self.publish_interval, self.publish)

    def health(self) -> dict[str, Any]:
        """Return :meth:`stats` as the ``grid_exchange`` section of the health document."""
        return self.stats()

    def stats(self) -> dict[str, Any]:
        """Return counters for the health document."""
        return {"published": self.published, "publish_failed": self.publish_failed,
                "received": self.received, "rejected": self.rejected, "placed": self.placed,
                "sources_synced": len(self.synced),
                "late": self.engine.correlation_late_samples,
                "lag_seconds": self.engine.correlation_lag}


def _chunks(samples: dict[str, list]) -> list[dict[str, list]]:
    """Split ``samples`` into dicts of at most MAX_ROWS_PER_MESSAGE rows (whole symbols)."""
    out: list[dict[str, list]] = []
    rows = 0
    for symbol, symbol_rows in samples.items():
        if not out or rows + len(symbol_rows) > MAX_ROWS_PER_MESSAGE:
            out.append({})
            rows = 0
        out[-1][symbol] = symbol_rows
        rows += len(symbol_rows)
    return out


def _parse(text: Any) -> dict[str, list[tuple[int, float, float]]] | None:
    """Return ``{symbol: [(cell, ts, price), ...]}`` from a batch, or None if malformed."""
    if not isinstance(text, str):
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    out: dict[str, list[tuple[int, float, float]]] = {}
    for symbol, rows in data.items():
        if not (0 < len(symbol) <= MAX_SYMBOL) or not isinstance(rows, list):
            return None
        parsed = []
        for row in rows:
            if (not isinstance(row, list) or len(row) != 3
                    or not all(isinstance(x, int | float) and not isinstance(x, bool)
                               and math.isfinite(x) for x in row)
                    or row[0] != int(row[0])):
                return None
            parsed.append((int(row[0]), float(row[1]), float(row[2])))
        out[symbol] = parsed
    return out
