"""``runpulse``'s options, checked once: each bad value is a one-line error naming its option.

:func:`ingest_options` turns the command's raw options into an :class:`IngestOptions`, which
``pulse.ingest.builder`` turns into a running pipeline. Nothing is started here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError

from pulse.engine import EngineConfig
from pulse.feeds.base import SymbolRef
from pulse.ingest import symbols as symbol_source
from pulse.ingest.options import engine_config
from pulse.ingest.serve import parse_hostport

# Feeds whose ticks do not continue the recording: no warm start for them by default.
_NOT_LIVE = {"simulator", "replay"}


@dataclass(frozen=True)
class IngestOptions:
    """What one ingest process runs, validated (see ``runpulse --help`` for each option)."""

    feeds: list[str]
    engine: EngineConfig
    duration: float | None = None
    queue_size: int = 100_000
    replay_files: tuple[str, ...] = ()
    replay_format: str = "ticks"
    replay_speed: float | None = None
    serve: tuple[str, int] | None = None
    metrics: tuple[str, int] | None = None
    shard: symbol_source.Shard | None = None
    symbols: list[SymbolRef] | None = None  # None: follow the watchlists
    record: bool = True
    warm_start: bool = False
    corr_window: float | None = None
    corr_method: str | None = None

    @property
    def finite_feeds(self) -> bool:
        """True when the feeds' data ends (a replay): ingest stops when it does."""
        return "replay" in self.feeds


def ingest_options(options: dict[str, Any]) -> IngestOptions:
    """Return the validated options of ``runpulse``; raise CommandError on the first bad one."""
    feeds = list(dict.fromkeys(options["feeds"] or ["simulator"]))
    if options["duration"] is not None and options["duration"] <= 0:
        raise CommandError("--duration must be a positive number of seconds")
    if options["queue_size"] < 1:
        raise CommandError("--queue-size must be at least 1")
    if "replay" in feeds and not options["replay_file"]:
        raise CommandError("--feed replay needs at least one --replay-file")
    if options["replay_file"] and "replay" not in feeds:
        raise CommandError("--replay-file is only used with --feed replay")
    if options["replay_speed"] is not None and options["replay_speed"] <= 0:
        raise CommandError("--replay-speed must be positive")
    serve = _parsed(options["serve"], parse_hostport, "--serve")
    metrics = _parsed(options["metrics"], parse_hostport, "--metrics")
    shard = _parsed(options["shard"], symbol_source.Shard.parse, "--shard")
    symbols = _parsed(options["symbols"], symbol_source.parse_symbols, "--symbols")
    if symbols is not None:
        try:  # a known symbol keeps its class: one instrument per symbol
            symbol_source.check_known_classes(symbols)
        except ValueError as exc:
            raise CommandError(f"--symbols: {exc}") from None
    warm = options["warm_start"]
    return IngestOptions(
        feeds=feeds,
        engine=engine_config(options, EngineConfig),
        duration=options["duration"],
        queue_size=options["queue_size"],
        replay_files=tuple(options["replay_file"]),
        replay_format=options["replay_format"],
        replay_speed=options["replay_speed"],
        serve=serve,
        metrics=metrics,
        shard=shard,
        symbols=symbols,
        record=not options["no_record"],
        warm_start=warm == "on" or (warm == "auto" and not _NOT_LIVE & set(feeds)),
        corr_window=options["corr_window"],
        corr_method=options["corr_method"],
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
