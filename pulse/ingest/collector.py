"""A Prometheus collector that reads an ingest pipeline's own counters at scrape time.

The engine loop never calls a metrics library per tick: the pipeline, its feeds, queue,
event store and publisher already count what operators need, so a scrape turns those
numbers into metric families. Metric names are listed in docs/operations.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from pulse.ingest.pipeline import PulsePipeline
from pulse.ingest.services import Service, ServiceError
from pulse.ops.metrics import start_metrics_server

# Per-feed counters: (FeedCounters key, metric name without _total, help).
_FEED_COUNTERS = (
    ("messages", "pulse_feed_messages", "Raw messages received from the provider."),
    ("ticks", "pulse_feed_ticks", "Ticks parsed from the provider's messages."),
    ("reconnects", "pulse_feed_reconnects", "Reconnections to the provider."),
    ("gaps", "pulse_feed_gaps", "Sequence gaps seen in the provider's stream."),
    ("duplicates", "pulse_feed_duplicates",
     "Duplicate trades skipped (repeated id or sequence, or re-sent after a reconnect)."),
    ("dropped", "pulse_feed_dropped_ticks", "Ticks dropped because the engine queue was full."),
    ("clock_skew", "pulse_feed_clock_skew",
     "Ticks dropped: exchange time too far ahead of the feed's (or file's) clock."),
    ("clock_resets", "pulse_feed_clock_resets",
     "Times the feed's clock reference re-anchored (provider clock shift, recording gap)."),
    ("clock_corrected", "pulse_feed_clock_corrected",
     "Ticks shifted back because the provider's clock runs ahead of ours."),
)


def _counter(name: str, doc: str, value: float, labels: dict[str, str] | None = None
             ) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class PipelineCollector(Collector):
    """Expose one :class:`PulsePipeline`'s counters, read when Prometheus scrapes."""

    def __init__(self, pipeline: PulsePipeline, publisher: Any = None) -> None:
        self.pipeline = pipeline
        self.publisher = publisher if publisher is not None else pipeline.publisher

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """Yield every ingest metric family, computed from the pipeline's current state."""
        p = self.pipeline
        health = p.health()
        yield _counter("pulse_ingest_ticks", "Ticks processed by the engine.", p.ticks)
        yield _gauge("pulse_ingest_symbols", "Symbols this ingest process follows.", len(p.refs))
        yield from self._feeds(health["feeds"])
        yield _gauge("pulse_engine_lag_seconds",
                     "Receipt-to-processed delay of the newest tick of the last engine batch.",
                     p.lag_last)
        yield _gauge("pulse_engine_lag_max_seconds",
                     "Largest receipt-to-processed delay since start.", p.lag_max)
        yield _counter("pulse_engine_batches", "Engine batches processed.", p.batches)
        queue = health["queue"]
        yield _gauge("pulse_queue_depth", "Ticks waiting between feeds and engine.",
                     queue["depth"])
        yield _gauge("pulse_queue_capacity", "Bound of the tick queue.", queue["max"])
        yield _gauge("pulse_queue_high_water", "Largest queue depth seen.",
                     getattr(p.queue, "high_water", 0))
        yield _counter("pulse_queue_dropped_ticks", "Ticks dropped on a full queue.",
                       queue["dropped"])
        yield _counter("pulse_snapshot_flushes", "Snapshot flushes broadcast.", p.flushes)
        yield _counter("pulse_snapshot_flushed_rows",
                       "Symbol rows in broadcast snapshot flushes (rows/flushes = flush size).",
                       p.flushed_rows)
        yield from self._events()
        yield from self._broadcast()
        yield _counter("pulse_control_requests",
                       "Snapshot, correlation and history requests answered.",
                       p.requests_answered)
        yield _gauge("pulse_ingest_uptime_seconds", "Seconds since this pipeline started.",
                     health["uptime"])
        if health.get("grid_exchange"):
            yield from self._grid(health["grid_exchange"])

    @staticmethod
    def _grid(grid: dict[str, Any]) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """Correlation grid samples shared between shards (``--shard i/n`` with n > 1)."""
        yield _counter("pulse_grid_batches_published",
                       "Grid sample batches sent to the other shards.", grid["published"])
        yield _counter("pulse_grid_publish_failed", "Grid sample batches that failed to send.",
                       grid["publish_failed"])
        yield _counter("pulse_grid_batches_received",
                       "Grid sample batches received from other shards.", grid["received"])
        yield _counter("pulse_grid_batches_rejected", "Malformed grid sample batches ignored.",
                       grid["rejected"])
        yield _counter("pulse_grid_samples_placed",
                       "Other shards' grid samples placed in this shard's correlation.",
                       grid["placed"])
        yield _counter("pulse_grid_samples_late",
                       "Samples that arrived after their cell was used (raise the lag).",
                       grid["late"])

    def _feeds(self, feeds: dict[str, dict[str, Any]]
               ) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        for key, name, doc in _FEED_COUNTERS:
            family = CounterMetricFamily(name, doc, labels=["feed"])
            for feed, counters in feeds.items():
                family.add_metric([feed], counters.get(key, 0))
            yield family
        failures = CounterMetricFamily("pulse_feed_parse_failures",
                                       "Provider messages that could not be parsed, by reason.",
                                       labels=["feed", "reason"])
        up = GaugeMetricFamily("pulse_feed_up",
                               "1 while the feed is live, 0 otherwise.", labels=["feed"])
        age = GaugeMetricFamily("pulse_feed_last_message_age_seconds",
                                "Seconds since the feed's last message.", labels=["feed"])
        for feed, counters in feeds.items():
            for reason, count in (counters.get("parse_failures") or {}).items():
                failures.add_metric([feed, str(reason)], count)
            up.add_metric([feed], 1.0 if counters.get("state") == "live" else 0.0)
            if counters.get("last_message_age") is not None:
                age.add_metric([feed], counters["last_message_age"])
        yield failures
        yield up
        yield age

    def _events(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        p = self.pipeline
        yield _counter("pulse_events_emitted", "Stress events fired by the engine.", p.emitted)
        store = p.store.stats() if p.store is not None else {}
        yield _counter("pulse_events_persisted", "Stress events written to the database.",
                       store.get("persisted", 0))
        yield _gauge("pulse_events_pending", "Stress events waiting to be written.",
                     store.get("pending", 0))
        yield _counter("pulse_events_persist_failures",
                       "Failed database writes of event batches (kept and retried).",
                       store.get("failures", 0))
        yield _counter("pulse_events_dropped",
                       "Events dropped because too many were pending.", store.get("dropped", 0))

    def _broadcast(self) -> Iterator[CounterMetricFamily]:
        pub = self.publisher
        yield _counter("pulse_broadcast_sent", "Messages published to the channel layer.",
                       getattr(pub, "sent", 0))
        yield _counter("pulse_broadcast_failed",
                       "Publishes that failed (channel layer unavailable).",
                       getattr(pub, "failed", 0))


def ingest_registry(pipeline: PulsePipeline) -> CollectorRegistry:
    """Return a registry with the pipeline collector and this process's CPU/memory metrics."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(pipeline))
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


class MetricsServer(Service):
    """Serve :func:`ingest_registry` of ``pipeline`` at ``http://host:port/metrics``.

    An ingest service (``pulse.ingest.services``): listens on :meth:`start`, before the
    warm start and the feeds, and closes on :meth:`stop`, after the events are flushed.
    """

    def __init__(self, pipeline: PulsePipeline, host: str, port: int, *,
                 label: str = "metrics") -> None:
        """``label`` starts the error message (the command passes its option's name)."""
        self.pipeline = pipeline
        self.host = host
        self.port = port
        self.label = label
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen; raise :class:`ServiceError` naming the address if that is impossible."""
        try:
            self.server = await start_metrics_server(self.host, self.port,
                                                     ingest_registry(self.pipeline))
        except OSError as exc:
            address = f"[{self.host}]" if ":" in self.host else self.host
            raise ServiceError(f"{self.label}: cannot listen on {address}:{self.port}: "
                               f"{exc.strerror or exc}") from None

    async def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
