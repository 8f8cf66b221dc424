"""``runpulse``: run feed ingest and the pulse engine; with ``--serve``, also the web app."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.alerts.dispatcher import Dispatcher
from pulse.alerts.notices import LayerNotifier
from pulse.alerts.router import AlertRouter
from pulse.alerts.store_step import RouteAlerts
from pulse.durable.recorder import Recorder
from pulse.durable.warm_start import warm_start
from pulse.engine import Engine, EngineConfig
from pulse.feeds.base import Feed, FeedConfigError, TickQueue
from pulse.feeds.registry import FEEDS, feed_class
from pulse.ingest import status_store
from pulse.ingest import symbols as symbol_source
from pulse.ingest.collector import ingest_registry
from pulse.ingest.event_store import EventStore, SaveEvents
from pulse.ingest.grid_exchange import GridExchange
from pulse.ingest.options import add_engine_arguments, engine_config
from pulse.ingest.pipeline import Intervals, PulsePipeline
from pulse.ingest.serve import ServeError, parse_hostport, serve_embedded
from pulse.ingest.summary import build_summary, write_summary
from pulse.ops.metrics import start_metrics_server
from pulse.realtime.broadcast import CONTROL_GROUP, Publisher


class Command(BaseCommand):
    help = (
        "Run market data ingest and the pulse engine, broadcasting snapshots and stress "
        "events to the channel layer. With --serve HOST:PORT the same process also serves "
        "the web app (embedded mode)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--feed", action="append", dest="feeds", metavar="NAME", choices=sorted(FEEDS),
            help=f"Feed to run; repeat for several ({', '.join(FEEDS)}). Default: simulator.",
        )
        parser.add_argument(
            "--symbols", metavar="CLASS:SYMBOL,...",
            help="Symbols to follow, e.g. stocks:AAPL,forex:EURUSD,crypto:BTC-USD. Default: "
            "the union of all users' watchlists (followed live), or the built-in universe.",
        )
        parser.add_argument(
            "--serve", metavar="HOST:PORT",
            help="Also serve pages and WebSockets here (embedded mode, one process).",
        )
        parser.add_argument(
            "--duration", type=float, metavar="SECONDS",
            help="Stop cleanly after this many seconds.",
        )
        parser.add_argument(
            "--summary", metavar="PATH",
            help="On exit, write a JSON summary (snapshots, feed counters, events, correlation).",
        )
        parser.add_argument(
            "--replay-file", action="append", default=[], metavar="FILE",
            help="Recording for --feed replay (repeatable).",
        )
        parser.add_argument(
            "--replay-format", choices=["ticks", "binance"], default="ticks",
            help="Format of --replay-file (default ticks).",
        )
        parser.add_argument(
            "--replay-speed", type=float, metavar="FACTOR",
            help="Replay at real time x FACTOR (default: as fast as possible).",
        )
        parser.add_argument(
            "--queue-size", type=int, default=100_000, metavar="N",
            help="Bound of the queue between feeds and engine; ticks beyond it are dropped "
            "and counted (default 100000).",
        )
        parser.add_argument(
            "--shard", metavar="I/N",
            help="Follow only shard I of N (0 <= I < N) of the symbols, split by a stable hash "
            "of CLASS:SYMBOL; run one process per shard (scaled mode, REDIS_URL).",
        )
        parser.add_argument(
            "--metrics", metavar="HOST:PORT",
            help="Serve this process's Prometheus metrics at http://HOST:PORT/metrics.",
        )
        parser.add_argument(
            "--no-record", action="store_true",
            help="Do not record the recent market to the database (no warm start later).",
        )
        parser.add_argument(
            "--warm-start", choices=["auto", "on", "off"], default="auto",
            help="Feed the recorded recent market into the engine before going live. auto "
            "(default): on for live feeds, off for the simulator and replay, whose ticks "
            "would not continue the recording.",
        )
        add_engine_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        feeds_wanted = options["feeds"] or ["simulator"]
        if options["duration"] is not None and options["duration"] <= 0:
            raise CommandError("--duration must be a positive number of seconds")
        if options["queue_size"] < 1:
            raise CommandError("--queue-size must be at least 1")
        if "replay" in feeds_wanted and not options["replay_file"]:
            raise CommandError("--feed replay needs at least one --replay-file")
        if options["replay_file"] and "replay" not in feeds_wanted:
            raise CommandError("--replay-file is only used with --feed replay")
        if options["replay_speed"] is not None and options["replay_speed"] <= 0:
            raise CommandError("--replay-speed must be positive")
        serve = _parsed(options["serve"], parse_hostport, "--serve")
        metrics = _parsed(options["metrics"], parse_hostport, "--metrics")
        shard = _parsed(options["shard"], symbol_source.Shard.parse, "--shard")
        fixed_symbols = _parsed(options["symbols"], symbol_source.parse_symbols, "--symbols")
        if fixed_symbols is not None:
            try:  # a known symbol keeps its class: one instrument per symbol
                symbol_source.check_known_classes(fixed_symbols)
            except ValueError as exc:
                raise CommandError(f"--symbols: {exc}") from None

        engine = Engine(engine_config(options, EngineConfig))
        queue = TickQueue(options["queue_size"])
        feeds = self._build_feeds(feeds_wanted, queue, options)
        if fixed_symbols is not None:
            refs = fixed_symbols

            async def source() -> list:
                return refs
        else:
            source = symbol_source.async_watchlist_symbols
        source = symbol_source.sharded(source, shard)
        layer = get_channel_layer()
        instance = status_store.default_instance()
        recorder = (None if options["no_record"]
                    else Recorder(engine.config, retention=settings.PULSE_RECORD_RETENTION))
        if recorder is not None:
            recorder.attach(engine)
        warm = options["warm_start"] == "on" or (
            options["warm_start"] == "auto" and not {"simulator", "replay"} & set(feeds_wanted)
        )
        exchange = None
        if shard is not None and shard.count > 1 and layer is not None:
            exchange = GridExchange(engine, layer, instance, leader=shard.index == 0)
        pipeline = PulsePipeline(
            engine,
            queue,
            feeds,
            grid_exchange=exchange,
            publisher=Publisher(layer, source=instance) if layer is not None else None,
            store=EventStore([
                SaveEvents(),
                RouteAlerts(AlertRouter(), LayerNotifier(layer) if layer is not None else None),
            ]),
            intervals=Intervals(flush=settings.PULSE_FLUSH_INTERVAL,
                                correlation=settings.PULSE_CORR_INTERVAL,
                                health=settings.PULSE_HEALTH_INTERVAL),
            corr_window=options["corr_window"],
            corr_method=options["corr_method"],
            symbol_source=source,
        )
        pipeline.register(status_store.StatusWriter(instance, pipeline.health))
        if recorder is not None:
            pipeline.register(recorder)
        pipeline.register(Dispatcher(allow_private=settings.PULSE_WEBHOOK_ALLOW_PRIVATE,
                                     timeout=settings.PULSE_WEBHOOK_TIMEOUT))
        started = time.monotonic()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, pipeline.stop)
            control = (layer, CONTROL_GROUP) if layer is not None else None
            server = None
            if metrics is not None:
                try:
                    server = await start_metrics_server(*metrics, ingest_registry(pipeline))
                except OSError as exc:
                    raise CommandError(f"--metrics: cannot listen on {options['metrics']}: "
                                       f"{exc.strerror or exc}") from None
            if warm:
                await self._warm_start(engine, recorder, source, sharded=shard is not None)
            try:
                await pipeline.run(
                    duration=options["duration"],
                    control=control,
                    finite_feeds="replay" in feeds_wanted,
                )
            finally:
                if server is not None:
                    server.close()

        try:
            if serve is not None:
                host, port = serve
                self.stdout.write(f"Market Pulse serving on http://{host}:{port}/", ending="\n")
                self.stdout.flush()
                serve_embedded(host, port, main)
            else:
                asyncio.run(main())
        except ServeError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        if options["summary"]:
            write_summary(options["summary"], self._summary(pipeline, seconds))
        self.stdout.write(
            f"processed {pipeline.ticks} ticks in {seconds:.1f} s; "
            f"events emitted {pipeline.emitted}, persisted {pipeline.events_counts()['persisted']}"
        )

    async def _warm_start(self, engine: Engine, recorder: Recorder | None, source: Any, *,
                          sharded: bool) -> None:
        """Replay the recorded recent market into the engine (its events are not re-sent)."""
        symbols = [ref.symbol for ref in await source()] if sharded else None
        since = time.time() - settings.PULSE_RECORD_RETENTION
        try:
            report = await warm_start(engine, since, recorder=recorder, symbols=symbols)
        except Exception as exc:  # a cold start is worse than none only in comfort
            self.stderr.write(f"warm start skipped: {type(exc).__name__}: {exc}")
            return
        self.warm_report = report.as_dict()
        self.stdout.write(
            f"warm start: {report.ticks} recorded ticks of {report.symbols} symbols in "
            f"{report.seconds:.2f} s"
        )

    def _build_feeds(
        self, names: list[str], queue: TickQueue, options: dict[str, Any]
    ) -> dict[str, Feed]:
        feeds: dict[str, Feed] = {}
        for name in dict.fromkeys(names):
            feed_options = dict(settings.PULSE_FEED_OPTIONS.get(name, {}))
            if name == "replay":
                feed_options.update(
                    paths=options["replay_file"],
                    format=options["replay_format"],
                    speed=options["replay_speed"],
                )
            try:
                feeds[name] = feed_class(name)([], queue, **feed_options)
            except FeedConfigError as exc:
                raise CommandError(f"feed {name}: {exc}") from None
        return feeds

    def _summary(self, pipeline: PulsePipeline, seconds: float) -> dict[str, Any]:
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
                   "warm_start": getattr(self, "warm_report", None)},
        )


def _parsed(value: str | None, parse: Callable[[str], Any], option: str) -> Any:
    """Return ``parse(value)`` (None when the option is absent); a bad value is a one-line
    CommandError naming the option."""
    if not value:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}") from None
