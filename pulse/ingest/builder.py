"""Assemble one ingest process from validated options: read this to see what runs.

:func:`build_ingest` is the only place where ``runpulse``'s parts are wired:

- feeds -> bounded tick queue -> engine (``PulsePipeline``), broadcast by the ``Publisher``;
- fired events -> ``EventStore`` whose steps run in one transaction per batch: ``SaveEvents``
  (the rows; only events new to the database go on), then ``RouteAlerts`` (every user's
  rules -> ``AlertDelivery`` rows, the webhook queue; in-app toasts sent after commit);
- optional services, started in this order before the feeds and stopped in reverse after
  the queue is drained and the events are flushed: grid exchange (sharded ingest only;
  handed to the pipeline, which also asks it which shard answers), status writer
  (``/health/``), metrics server, warm start, recorder, webhook dispatcher (drains the
  delivery rows).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import CommandError

from pulse.alerts.dispatcher import Dispatcher
from pulse.alerts.notices import LayerNotifier
from pulse.alerts.router import AlertRouter
from pulse.alerts.store_step import RouteAlerts
from pulse.durable.recorder import Recorder
from pulse.durable.warm_start import WarmStart
from pulse.engine import Engine
from pulse.feeds.base import Feed, FeedConfigError, SymbolRef, TickQueue
from pulse.feeds.registry import feed_class
from pulse.ingest import status_store
from pulse.ingest import symbols as symbol_source
from pulse.ingest.collector import MetricsServer
from pulse.ingest.event_store import EventStore, SaveEvents
from pulse.ingest.grid_exchange import GridExchange
from pulse.ingest.pipeline import Intervals, PulsePipeline
from pulse.ingest.run_options import IngestOptions
from pulse.ingest.summary import build_summary
from pulse.realtime.broadcast import CONTROL_GROUP, Publisher

SymbolSource = Callable[[], Awaitable[list[SymbolRef]]]


@dataclass
class Ingest:
    """A built ingest process: :meth:`run` it on an event loop, then read :meth:`summary`."""

    pipeline: PulsePipeline
    options: IngestOptions
    control: tuple[Any, str] | None = None
    warm: WarmStart | None = None

    async def run(self) -> None:
        """Run until SIGINT/SIGTERM, ``--duration``, or the end of a replay."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.pipeline.stop)
        await self.pipeline.run(duration=self.options.duration, control=self.control,
                                finite_feeds=self.options.finite_feeds)

    def summary(self, seconds: float) -> dict[str, Any]:
        """Return the ``--summary`` document of a finished run that took ``seconds``."""
        pipeline = self.pipeline
        health = pipeline.health()
        return build_summary(
            ticks=pipeline.ticks,
            seconds=seconds,
            symbols=pipeline.engine.snapshots(),
            feeds=health["feeds"],
            emitted=pipeline.emitted,
            persisted=pipeline.events_counts()["persisted"],
            correlation=pipeline.last_correlation,
            engine=pipeline.engine.stats(),
            extra={"queue": health["queue"], "store": health["store"],
                   "unrouted": health["unrouted"], "recording": health["recording"],
                   "webhooks": health["webhooks"],
                   "warm_start": None if self.warm is None or self.warm.report is None
                   else self.warm.report.as_dict()},
        )


def build_ingest(options: IngestOptions, *, say: Callable[[str], Any] = print,
                 warn: Callable[[str], Any] = print) -> Ingest:
    """Return the ingest process ``options`` describe; nothing runs until ``Ingest.run``.

    ``say`` and ``warn`` receive the warm start's report line. Raises CommandError if a
    feed refuses its settings.
    """
    engine = Engine(options.engine)
    queue = TickQueue(options.queue_size)
    layer = get_channel_layer()
    instance = status_store.default_instance()
    source = symbol_source.sharded(_symbol_source(options.symbols), options.shard)
    sharded = options.shard is not None and options.shard.count > 1 and layer is not None
    pipeline = PulsePipeline(
        engine, queue, build_feeds(options, queue),
        publisher=Publisher(layer, source=instance) if layer is not None else None,
        store=EventStore([
            SaveEvents(),
            RouteAlerts(AlertRouter(), LayerNotifier(layer) if layer is not None else None),
        ]),
        intervals=Intervals(flush=settings.PULSE_FLUSH_INTERVAL,
                            correlation=settings.PULSE_CORR_INTERVAL,
                            health=settings.PULSE_HEALTH_INTERVAL),
        corr_window=options.corr_window,
        corr_method=options.corr_method,
        symbol_source=source,
        grid_exchange=(GridExchange(engine, layer, instance, leader=options.shard.index == 0)
                       if sharded else None),
    )
    pipeline.register(status_store.StatusWriter(instance, pipeline.health))
    if options.metrics is not None:
        pipeline.register(MetricsServer(pipeline, *options.metrics, label="--metrics"))
    recorder = None
    if options.record:
        recorder = Recorder(engine.config, retention=settings.PULSE_RECORD_RETENTION)
        recorder.attach(engine)  # records what the engine accepts, from the warm start on
    warm = None
    if options.warm_start:
        warm = pipeline.register(WarmStart(
            engine, retention=settings.PULSE_RECORD_RETENTION, recorder=recorder,
            symbols=source if options.shard is not None else None, say=say, warn=warn))
    if recorder is not None:
        pipeline.register(recorder)
    pipeline.register(Dispatcher(allow_private=settings.PULSE_WEBHOOK_ALLOW_PRIVATE,
                                 timeout=settings.PULSE_WEBHOOK_TIMEOUT))
    control = (layer, CONTROL_GROUP) if layer is not None else None
    return Ingest(pipeline, options, control, warm)


def build_feeds(options: IngestOptions, queue: TickQueue) -> dict[str, Feed]:
    """Return the feeds ``options`` name, configured from ``PULSE_FEED_OPTIONS``."""
    feeds: dict[str, Feed] = {}
    for name in options.feeds:
        feed_options = dict(settings.PULSE_FEED_OPTIONS.get(name, {}))
        if name == "replay":
            feed_options.update(paths=list(options.replay_files),
                                format=options.replay_format, speed=options.replay_speed)
        try:
            feeds[name] = feed_class(name)([], queue, **feed_options)
        except FeedConfigError as exc:
            raise CommandError(f"feed {name}: {exc}") from None
    return feeds


def _symbol_source(fixed: list[SymbolRef] | None) -> SymbolSource:
    """Return the fixed ``--symbols`` as a source, or the watchlists (followed live)."""
    if fixed is None:
        return symbol_source.async_watchlist_symbols

    async def source() -> list[SymbolRef]:
        return fixed

    return source
