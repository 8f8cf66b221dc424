"""``replay``: run the pulse engine over recorded ticks, without the web (also the benchmark)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.engine import Engine, EngineConfig
from pulse.ingest.options import add_engine_arguments, engine_config
from pulse.ingest.progress import Progress, count_lines
from pulse.ingest.replay_run import ReplayRun
from pulse.ingest.summary import write_summary


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--speed must be 'max' or a positive factor, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"--speed must be 'max' or a positive factor, got {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Replay recorded ticks through the pulse engine (several files are merged by time) "
        "and report throughput, events and correlation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Recordings (.gz accepted).")
        parser.add_argument(
            "--format", choices=["ticks", "binance"], default="ticks",
            help="ticks: NDJSON {symbol, asset, ts, price[, bid, ask, size]}; binance: the "
            "recorder format in ../shared/data. Default ticks.",
        )
        parser.add_argument(
            "--speed", default="max", metavar="max|FACTOR",
            help="max (as fast as possible, default) or real time x FACTOR.",
        )
        parser.add_argument("--summary", metavar="PATH", help="Write the JSON summary here.")
        parser.add_argument(
            "--corr-every", type=float, default=2.0, metavar="SECONDS",
            help="Recompute the correlation matrix every this many seconds of event time "
            "(default 2).",
        )
        parser.add_argument(
            "--corr-symbols", type=int, default=20, metavar="N",
            help="Correlation matrix over the first N symbols seen (default 20).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Never draw the progress bar."
        )
        add_engine_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            speed = _speed(options["speed"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        if options["corr_every"] <= 0:
            raise CommandError("--corr-every must be positive")
        if options["corr_symbols"] < 1:
            raise CommandError("--corr-symbols must be at least 1")
        engine = Engine(engine_config(options, EngineConfig))
        progress = None
        if not options["no_progress"] and sys.stderr.isatty():
            needle = b'@trade"' if options["format"] == "binance" else b"\n"
            progress = Progress(count_lines(paths, needle), sys.stderr)
        run = ReplayRun(
            engine,
            paths,
            fmt=options["format"],
            speed=speed,
            corr_every=options["corr_every"],
            corr_symbols=options["corr_symbols"],
            corr_window=options["corr_window"],
            corr_method=options["corr_method"],
            progress=progress,
        )
        try:
            run.run()
        except KeyboardInterrupt:
            self.stderr.write("interrupted: summary covers the ticks processed so far")
        if progress is not None:
            progress.finish()
        summary = run.summary()
        if options["summary"]:
            write_summary(options["summary"], summary)
        self.stdout.write(
            f"ticks processed: {summary['ticks']}\n"
            f"seconds: {summary['seconds']:.3f}\n"
            f"ticks per second: {summary['ticks_per_second']:.0f}\n"
            f"events emitted: {summary['events']['emitted']}\n"
            f"rejected: {summary.get('engine', {}).get('rejected', {})}\n"
            f"correlation refreshes: {summary['correlation_refreshes']}\n"
            f"engine state per symbol: {summary['bytes_per_symbol']:,} bytes"
        )
