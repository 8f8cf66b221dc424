"""``runpulse``: run feed ingest and the pulse engine; with ``--serve``, also the web app.

``handle`` only parses (``pulse.ingest.run_options``), builds (``pulse.ingest.builder``, which
tells what runs) and runs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.feeds.registry import FEEDS
from pulse.ingest.builder import build_ingest
from pulse.ingest.options import add_engine_arguments
from pulse.ingest.run_options import ingest_options
from pulse.ingest.serve import ServeError, serve_embedded
from pulse.ingest.services import ServiceError
from pulse.ingest.summary import write_summary


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
        ingest = build_ingest(ingest_options(options), say=self.stdout.write,
                              warn=self.stderr.write)
        started = time.monotonic()
        try:
            if ingest.options.serve is not None:
                host, port = ingest.options.serve
                self.stdout.write(f"Market Pulse serving on http://{host}:{port}/", ending="\n")
                self.stdout.flush()
                serve_embedded(host, port, ingest.run)
            else:
                asyncio.run(ingest.run())
        except (ServeError, ServiceError) as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        if options["summary"]:
            write_summary(options["summary"], ingest.summary(seconds))
        pipeline = ingest.pipeline
        self.stdout.write(
            f"processed {pipeline.ticks} ticks in {seconds:.1f} s; "
            f"events emitted {pipeline.emitted}, persisted {pipeline.events_counts()['persisted']}"
        )
