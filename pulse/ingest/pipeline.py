"""The live pipeline: feeds -> bounded queue -> engine -> event store and broadcast.

Each step is a method tests can call on its own (``process``, ``flush_snapshots``,
``publish_health``, ``refresh_correlation``, ``persist``); ``run`` only wires them into
periodic tasks on one event loop and stops cleanly, flushing pending writes. Optional parts
(recorder, webhook dispatcher, grid exchange, status writer, metrics server) are
:class:`~pulse.ingest.services.Service` objects registered with :meth:`PulsePipeline.register`;
``pulse.ingest.builder`` assembles the whole process from the command's options.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pulse.engine import Engine
from pulse.engine.tick import Tick
from pulse.feeds.base import Feed, FeedState, SymbolRef, TickQueue
from pulse.ingest.grid_exchange import GridExchange
from pulse.ingest.page_queries import PageQueries, clean_correlation_request
from pulse.ingest.services import OPTIONAL_SECTIONS, Service, every
from pulse.realtime.broadcast import GRID_GROUP, GRID_SAMPLES, REQUEST_CORRELATION, REQUEST_HISTORY

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intervals:
    """Seconds between the pipeline's periodic steps (settings ``PULSE_*_INTERVAL``)."""

    flush: float = 0.25  # snapshots of the symbols that changed
    correlation: float = 2.0  # correlation matrix (and the per-page answers' cache)
    health: float = 2.0  # health document to the dashboards
    keyframe: float = 10.0  # every snapshot, for pages that missed a flush
    symbol_poll: float = 3.0  # the symbol source (watchlists followed live)
    persist: float = 1.0  # pending events to the event store


class EventSink(Protocol):
    """Where fired events are kept until written (see ``pulse.ingest.event_store``)."""

    persisted: int

    def add(self, event: dict[str, Any]) -> None: ...

    async def flush(self) -> int: ...

    def stats(self) -> dict[str, Any]: ...


def assign_symbols(
    feeds: Sequence[Feed], refs: Iterable[SymbolRef]
) -> tuple[dict[Feed, set[SymbolRef]], list[SymbolRef]]:
    """Route each symbol to the first feed that accepts it; return routes and leftovers."""
    routes: dict[Feed, set[SymbolRef]] = {feed: set() for feed in feeds}
    unrouted: list[SymbolRef] = []
    for ref in refs:
        for feed in feeds:
            if feed.accepts(ref):
                routes[feed].add(ref)
                break
        else:
            unrouted.append(ref)
    return routes, unrouted


class PulsePipeline:
    """Own the engine and the feeds of one ingest process and drive them."""

    def __init__(
        self,
        engine: Engine,
        queue: TickQueue,
        feeds: dict[str, Feed],
        *,
        publisher: Any = None,
        store: EventSink | None = None,
        intervals: Intervals = Intervals(),
        corr_symbols: Sequence[str] | None = None,
        corr_window: float | None = None,
        corr_method: str | None = None,
        corr_max_symbols: int = 30,
        symbol_source: Callable[[], Awaitable[list[SymbolRef]]] | None = None,
        grid_exchange: GridExchange | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.queue = queue
        self.feeds = feeds
        self.publisher = publisher
        self.store = store
        self.intervals = intervals
        self.corr_symbols = list(corr_symbols) if corr_symbols else None
        self.corr_window = corr_window
        self.corr_method = corr_method
        self.corr_max_symbols = corr_max_symbols
        self.symbol_source = symbol_source
        # Optional parts, started before the feeds and stopped after the final flush.
        self.services: list[Service] = []
        # Sharded ingest: correlation grid samples shared with the other shards. More than
        # a service: it decides which shard answers a correlation request.
        self.grid_exchange = grid_exchange
        if grid_exchange is not None:
            self.register(grid_exchange)
        self.clock = clock
        self.started_at = clock()
        self.ticks = 0
        self.emitted = 0
        self.unrouted: list[str] = []
        self.last_correlation: dict[str, Any] = {"symbols": [], "matrix": []}
        self.refs: set[SymbolRef] = set()
        self._stop = asyncio.Event()
        self._events_out: list[dict[str, Any]] = []
        self.feed_errors: dict[str, str] = {}
        # Receipt-to-processed latency of the newest tick of each engine batch (seconds).
        self.lag_last = 0.0
        self.lag_max = 0.0
        self.batches = 0
        self.flushes = 0
        self.flushed_rows = 0
        # Per-page answers (correlation of a page's symbols, chart history), cached for one
        # correlation refresh interval because every open page asks about that often.
        self.page_queries = PageQueries(engine, ttl=intervals.correlation)
        self.requests_answered = 0

    def register(self, service: Service) -> Service:
        """Add an optional part: :meth:`run` starts it before the feeds, runs it next to the
        engine and stops it after the final flush (in reverse order); :meth:`health`
        reports it under its name. Return ``service``."""
        self.services.append(service)
        return service

    # Steps ----------------------------------------------------------------------------

    def process(self, ticks: Iterable[Tick]) -> int:
        """Feed ``ticks`` to the engine; queue fired events for persist and broadcast."""
        on_tick = self.engine.on_tick
        out = self._events_out
        n = 0
        for tick in ticks:
            n += 1
            fired = on_tick(tick)
            if fired:
                self.emitted += len(fired)
                for event in fired:
                    data = event.to_dict()
                    out.append(data)
                    if self.store is not None:
                        self.store.add(data)
        self.ticks += n
        return n

    async def publish_events(self) -> int:
        """Broadcast every event fired since the last call; return how many."""
        events, self._events_out = self._events_out, []
        if self.publisher is not None:
            for data in events:
                await self.publisher.event(data)
        return len(events)

    async def flush_snapshots(self, *, full: bool = False) -> int:
        """Broadcast the snapshots of symbols that changed (all of them if ``full``)."""
        changed = self.engine.take_changed()
        if full:
            snaps = self.engine.snapshots()
        elif changed:
            snaps = self.engine.snapshots(sorted(changed))
        else:
            return 0
        if self.publisher is not None:
            await self.publisher.snapshots(snaps, self.engine.now, full=full)
        self.flushes += 1
        self.flushed_rows += len(snaps)
        return len(snaps)

    def correlation_symbols(self) -> list[str]:
        """Return the symbols the broadcast correlation matrix covers (every shard's, when
        shards share grid samples)."""
        if self.corr_symbols:
            return list(self.corr_symbols)
        return self.engine.correlation_symbols()[: self.corr_max_symbols]

    def compute_correlation(self) -> dict[str, Any]:
        """Recompute the correlation matrix (and top-3 against its first symbol)."""
        symbols = self.correlation_symbols()
        if self.engine.now is None or not symbols:
            return self.last_correlation
        corr = self.engine.correlation(
            symbols, base=symbols[0], window=self.corr_window, method=self.corr_method
        )
        self.last_correlation = corr
        return corr

    async def refresh_correlation(self) -> dict[str, Any]:
        """Recompute and broadcast the correlation matrix."""
        corr = self.compute_correlation()
        if self.publisher is not None and corr.get("symbols"):
            await self.publisher.correlation(corr)
        return corr

    def health(self) -> dict[str, Any]:
        """Return feed health, engine counters, persistence state and uptime."""
        now = self.clock()
        feeds = {name: feed.health(now) for name, feed in self.feeds.items()}
        for name, reason in self.feed_errors.items():
            feeds.setdefault(name, {})["reason"] = reason
        return {
            "started_at": self.started_at,
            "uptime": round(now - self.started_at, 1),
            "ticks": self.ticks,
            "queue": {
                "depth": len(self.queue),
                "max": self.queue.maxsize,
                "dropped": self.queue.dropped,
            },
            "feeds": feeds,
            "engine": self.engine.stats(),
            "lag": {"last": round(self.lag_last, 4), "max": round(self.lag_max, 4)},
            "flushes": {"count": self.flushes, "rows": self.flushed_rows},
            "events": self.events_counts(),
            "store": None if self.store is None else self.store.stats(),
            **self.services_health(),
            "unrouted": self.unrouted,
        }

    def services_health(self) -> dict[str, Any]:
        """Return each named service's health section (null for optional ones not running)."""
        sections: dict[str, Any] = dict.fromkeys(OPTIONAL_SECTIONS)
        for service in self.services:
            if service.name:
                sections[service.name] = service.health()
        return sections

    def events_counts(self) -> dict[str, int]:
        """Return ``{"emitted", "persisted"}`` for the summary."""
        return {
            "emitted": self.emitted,
            "persisted": 0 if self.store is None else self.store.persisted,
        }

    async def publish_health(self) -> None:
        """Broadcast the health document."""
        if self.publisher is not None:
            await self.publisher.health(self.health())

    async def persist(self) -> int:
        """Write pending events to the database."""
        return 0 if self.store is None else await self.store.flush()

    async def answer_snapshot_request(self, reply_to: str) -> None:
        """Send the full current state to one consumer that just connected."""
        if self.publisher is not None:
            await self.publisher.reply_snapshot(reply_to, self.engine.snapshots(), self.engine.now)

    async def answer_correlation_request(self, reply_to: str, message: dict[str, Any]) -> bool:
        """Send one page the correlation of its symbols (base, method, bucket of its choice).

        Malformed requests get no reply. With several shards exactly one answers: the shard
        that follows the base symbol (its regime picks the lookback), or the leader (shard
        0) when no shard knows the base; with a grid exchange its matrix covers every
        shard's symbols. Returns whether a reply was sent.
        """
        params = clean_correlation_request(message)
        if params is None or self.publisher is None:
            return False
        own = set(self.engine.symbols())
        known = set(self.engine.correlation_symbols())
        wanted = params["symbols"]
        if wanted is None:
            symbols = self.correlation_symbols()
            base = params["base"] if params["base"] in symbols else None
        else:
            base = params["base"] if params["base"] in wanted else min(wanted, default=None)
            symbols = [s for s in wanted if s in known]
        if self.grid_exchange is None:  # one process, or shards that only see their own
            answers = base is None or base in own
        else:
            answers = base in own if base in known else self.grid_exchange.leader
        if not answers or not symbols:
            return False
        text = self.page_queries.correlation(
            symbols, base, window=self.corr_window,
            method=params["method"] or self.corr_method, bucket=params["bucket"],
        )
        return await self.publisher.reply(reply_to, "correlation", text)

    async def answer_history_request(self, reply_to: str, message: dict[str, Any]) -> bool:
        """Send one page the recent price path of the symbols it asks for (chart, sparklines)."""
        symbols = message.get("symbols")
        if (self.publisher is None or not isinstance(symbols, list)
                or not all(isinstance(s, str) for s in symbols)):
            return False
        seconds, step = message.get("seconds", 3600), message.get("step", 10)
        if not all(isinstance(x, int | float) and 0 < x <= 86_400 for x in (seconds, step)):
            return False
        known = set(self.engine.symbols())
        symbols = [s for s in symbols if s in known]
        if not symbols:
            return False
        text = self.page_queries.history(symbols, float(seconds), float(step))
        return await self.publisher.reply(reply_to, "history", text)

    async def answer_request(self, message: dict[str, Any]) -> None:
        """Dispatch one control-group request to its answer (unknown types are ignored)."""
        kind = message.get("type")
        if kind == GRID_SAMPLES:
            if self.grid_exchange is not None:
                self.grid_exchange.receive(message)
            return
        reply_to = message.get("reply_to")
        if not isinstance(reply_to, str):
            return
        if kind == REQUEST_CORRELATION:
            await self.answer_correlation_request(reply_to, message)
        elif kind == REQUEST_HISTORY:
            await self.answer_history_request(reply_to, message)
        else:
            await self.answer_snapshot_request(reply_to)
        self.requests_answered += 1

    def apply_symbols(self, refs: Iterable[SymbolRef]) -> None:
        """Route ``refs`` to feeds; feeds subscribe and unsubscribe the difference."""
        refs = set(refs)
        if refs == self.refs:
            return
        self.refs = refs
        routes, unrouted = assign_symbols(list(self.feeds.values()), sorted(refs))
        for feed, wanted in routes.items():
            if wanted != set(feed.symbols):
                feed.set_symbols(wanted)
        self.unrouted = [str(ref) for ref in unrouted]
        if unrouted:
            logger.warning("no feed serves: %s", ", ".join(self.unrouted))

    # Loop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to finish; it flushes and returns."""
        self._stop.set()
        for feed in self.feeds.values():
            feed.stop()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    async def _engine_loop(self) -> None:
        while True:
            batch = await self.queue.get_batch(2000)
            self.process(batch)
            lag = self.clock() - batch[-1].recv_ts
            self.lag_last = lag
            self.lag_max = max(self.lag_max, lag)
            self.batches += 1
            if self._events_out:
                await self.publish_events()
            await asyncio.sleep(0)

    def _every(self, interval: float, step: Callable[[], Awaitable[Any]]) -> asyncio.Task:
        return asyncio.create_task(every(self._stop, interval, step))

    async def _keyframe(self) -> None:
        await self.flush_snapshots(full=True)

    async def _poll_symbols(self) -> None:
        if self.symbol_source is not None:
            self.apply_symbols(await self.symbol_source())

    async def _run_feed(self, name: str, feed: Feed) -> None:
        try:
            await feed.run()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            feed.counters.set_state(FeedState.FAILED, reason)
            self.feed_errors[name] = reason
            logger.error("feed %s failed: %s", name, reason)

    async def _control_loop(self, layer: Any, group: str) -> None:
        """Answer consumers' requests (snapshot, correlation, history) on the control group."""
        channel = await layer.new_channel("pulse-ingest.")
        groups = [group] + ([GRID_GROUP] if self.grid_exchange is not None else [])
        for name in groups:
            await layer.group_add(name, channel)
        try:
            while True:
                message = await layer.receive(channel)
                try:
                    await self.answer_request(message)
                except Exception:  # one bad request must not stop answering the others
                    logger.exception("control request failed: %r", message.get("type"))
        finally:
            for name in groups:
                with contextlib.suppress(Exception):
                    await layer.group_discard(name, channel)

    async def run(
        self,
        *,
        duration: float | None = None,
        control: tuple[Any, str] | None = None,
        finite_feeds: bool = False,
    ) -> None:
        """Run until :meth:`stop`, ``duration`` seconds, or (``finite_feeds``) data ends.

        Starts the services, then the feeds; on the way out drains the queue, flushes
        events, snapshots and the store, then stops the services in reverse order.
        """
        await self._start_services()
        if self.symbol_source is not None:
            self.apply_symbols(await self.symbol_source())
        feed_tasks = [
            asyncio.create_task(self._run_feed(name, feed), name=f"feed-{name}")
            for name, feed in self.feeds.items()
        ]
        period = self.intervals
        tasks = [
            asyncio.create_task(self._engine_loop(), name="engine"),
            self._every(period.flush, self.flush_snapshots),
            self._every(period.keyframe, self._keyframe),
            self._every(period.correlation, self.refresh_correlation),
            self._every(period.health, self.publish_health),
            self._every(period.persist, self.persist),
        ]
        tasks += [asyncio.create_task(service.run(self._stop),
                                      name=f"service-{type(service).__name__}")
                  for service in self.services]
        if self.symbol_source is not None:
            tasks.append(self._every(period.symbol_poll, self._poll_symbols))
        if control is not None:
            tasks.append(asyncio.create_task(self._control_loop(*control), name="control"))
        waiters = [asyncio.create_task(self._stop.wait())]
        if finite_feeds:
            waiters.append(asyncio.create_task(asyncio.wait(feed_tasks)))
        try:
            await asyncio.wait(waiters, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.stop()
            await asyncio.wait(feed_tasks, timeout=5)
            # Drain what the feeds queued before stopping, then flush everything.
            while len(self.queue):
                self.process(await self.queue.get_batch(10_000))
            for task in [*tasks, *waiters, *feed_tasks]:
                task.cancel()
            await asyncio.gather(*tasks, *waiters, *feed_tasks, return_exceptions=True)
            try:
                await self._final_flush()
            finally:
                await self._stop_services(self.services)

    async def _start_services(self) -> None:
        """Start every service in order; if one cannot start, stop those started, re-raise."""
        for started, service in enumerate(self.services):
            try:
                await service.start()
            except BaseException:
                await self._stop_services(self.services[:started])
                raise

    @staticmethod
    async def _stop_services(services: Sequence[Service]) -> None:
        """Stop ``services`` in reverse order; one that fails does not keep others running."""
        for service in reversed(services):
            try:
                await service.stop()
            except Exception:
                logger.exception("stopping %s failed", type(service).__name__)

    async def _final_flush(self) -> None:
        """Publish and persist whatever is pending; called once on the way out."""
        with contextlib.suppress(Exception):
            await self.publish_events()
            await self.flush_snapshots()
        for _ in range(3):
            if self.store is None or not self.store.stats()["pending"]:
                break
            await self.persist()
        if self.store is not None and self.store.stats()["pending"]:
            logger.error("exiting with %d events not persisted: %s",
                         self.store.stats()["pending"], self.store.stats()["last_error"])
        self.compute_correlation()
