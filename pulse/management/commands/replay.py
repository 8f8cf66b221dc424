"""``replay``: run the pulse engine over recorded ticks, without the web (also the benchmark).

Ticks come from files, or with ``--from-db --since 1h`` from the database recording that
``runpulse`` keeps for warm starts (``pulse.durable``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.durable.durations import parse_duration
from pulse.durable.recording_store import newest_start
from pulse.durable.warm_start import recorded_ticks
from pulse.engine import Engine, EngineConfig
from pulse.ingest.event_log import EventLog, EventLogError
from pulse.ingest.options import add_engine_arguments, engine_config
from pulse.ingest.progress import Progress, count_lines
from pulse.ingest.replay_run import ReplayRun
from pulse.ingest.summary import write_summary


def _open_events(path: str) -> TextIO:
    """Open the ``--events`` file for writing; raise CommandError naming why it cannot be."""
    try:
        return open(path, "w", encoding="utf-8")  # closed by handle()
    except OSError as exc:
        raise CommandError(f"--events: cannot write {path}: {exc.strerror or exc}") from None


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
        parser.add_argument("files", nargs="*", metavar="FILE", help="Recordings (.gz accepted).")
        parser.add_argument(
            "--from-db", action="store_true",
            help="Replay the database recording instead of files (see --since).",
        )
        parser.add_argument(
            "--since", default="1h", metavar="DURATION",
            help="With --from-db: how far back from the end of the recording, e.g. 1h, 90m, "
            "2h30m (default 1h).",
        )
        parser.add_argument(
            "--symbols", default="", metavar="A,B",
            help="With --from-db: only these symbols (comma-separated; default all).",
        )
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
            "--events", metavar="PATH",
            help="Write every emitted stress event here as NDJSON, one object per line, in "
            "the schema of the WebSocket/API event messages (backtest your rules: what "
            "would have fired?). '-' writes them to standard output, and the report lines "
            "then go to standard error.",
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
        if options["from_db"] == bool(paths):
            raise CommandError("give recording files, or --from-db (not both)")
        for path in paths:
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        source = self._db_source(options) if options["from_db"] else None
        if options["corr_every"] <= 0:
            raise CommandError("--corr-every must be positive")
        if options["corr_symbols"] < 1:
            raise CommandError("--corr-symbols must be at least 1")
        engine = Engine(engine_config(options, EngineConfig))
        events_path = options["events"]
        to_stdout = events_path == "-"
        # With events on stdout, the report moves to stderr (unstyled: it is not an error).
        out = self.stderr if to_stdout else self.stdout

        def report(text: str) -> None:
            out.write(text, style_func=str)

        handle = None if events_path is None or to_stdout else _open_events(events_path)
        event_log = None
        if to_stdout:
            event_log = EventLog(lambda line: self.stdout.write(line, ending=""))
        elif handle is not None:
            event_log = EventLog(handle.write)
        progress = None
        if not options["no_progress"] and sys.stderr.isatty() and paths:
            needle = b'@trade"' if options["format"] == "binance" else b"\n"
            progress = Progress(count_lines(paths, needle), sys.stderr)
        run = ReplayRun(
            engine,
            paths,
            fmt="recording" if source is not None else options["format"],
            speed=speed,
            corr_every=options["corr_every"],
            corr_symbols=options["corr_symbols"],
            corr_window=options["corr_window"],
            corr_method=options["corr_method"],
            progress=progress,
            source=source,
            event_log=event_log,
        )
        try:
            run.run()
        except KeyboardInterrupt:
            self.stderr.write("interrupted: summary covers the ticks processed so far")
        except EventLogError as exc:
            raise CommandError(f"--events: cannot write {events_path}: {exc}") from None
        finally:
            if handle is not None:
                handle.close()
        if to_stdout:
            self.stdout.flush()
        if progress is not None:
            progress.finish()
        summary = run.summary()
        if options["summary"]:
            write_summary(options["summary"], summary)
        report(
            f"ticks processed: {summary['ticks']}\n"
            f"seconds: {summary['seconds']:.3f}\n"
            f"ticks per second: {summary['ticks_per_second']:.0f}\n"
            f"events emitted: {summary['events']['emitted']}\n"
            f"rejected: {summary.get('engine', {}).get('rejected', {})}\n"
            f"correlation refreshes: {summary['correlation_refreshes']}\n"
            f"engine state per symbol: {summary['bytes_per_symbol']:,} bytes"
        )
        if handle is not None:
            report(f"events written to {events_path}: {event_log.written}")

    def _db_source(self, options: dict[str, Any]) -> Any:
        """Return the tick source of ``--from-db``: the recording's last ``--since``."""
        try:
            span = parse_duration(options["since"])
        except ValueError as exc:
            raise CommandError(f"--since: {exc}") from None
        end = newest_start()
        if end is None:
            raise CommandError("the database holds no recording (is runpulse recording?)")
        # Relative to the end of the recording, not the wall clock, so an old recording
        # (or one from a stopped system) replays its own last hour.
        since = end + 60.0 - span
        symbols = [s.strip() for s in options["symbols"].split(",") if s.strip()] or None
        self.stderr.write(f"replaying the recording from {since:.0f} (epoch s), "
                          f"{span:g} s up to its end")
        return lambda: recorded_ticks(since, None, symbols)
