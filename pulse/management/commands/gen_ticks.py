"""``gen_ticks``: write a synthetic tick file (NDJSON, gzip if the name ends in .gz)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.engine.tick import Tick
from pulse.feeds.base import SymbolRef
from pulse.feeds.faults import FaultInjector, describe_kinds
from pulse.feeds.replay import write_ticks
from pulse.feeds.synthetic import STOCK_HOURS, SyntheticMarket
from pulse.feeds.universe import DEFAULT_UNIVERSE


def parse_symbols(text: str) -> list[SymbolRef]:
    """Return the SymbolRefs of ``CLASS:SYM,CLASS:SYM``; raise ValueError naming a bad one."""
    refs = [SymbolRef.parse(part) for part in text.split(",") if part.strip()]
    if not refs:
        raise ValueError("--symbols is empty")
    return refs


def parse_start(text: str) -> float:
    """Return epoch seconds from an epoch number or an ISO 8601 time (naive means UTC)."""
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"--start must be epoch seconds or ISO 8601, got {text!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"--start must be a positive epoch time, got {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Generate synthetic ticks from the seeded market model and write them as NDJSON "
        "(gzip if OUT ends in .gz), for replay and benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT", help="Output file (.gz for gzip).")
        parser.add_argument("--ticks", type=int, default=1_000_000, metavar="N",
                            help="Number of ticks to write (default 1000000).")
        parser.add_argument("--seed", type=int, default=0, metavar="S",
                            help="Random seed; same seed and start give the same file (default 0).")
        parser.add_argument("--symbols", metavar="CLASS:SYM,...",
                            help="Symbols, e.g. crypto:BTC-USD,stocks:AAPL (default: the "
                            f"built-in universe of {len(DEFAULT_UNIVERSE)} symbols).")
        parser.add_argument("--start", metavar="ISO|EPOCH",
                            help="Event time of the first tick (default: now, whole second).")
        parser.add_argument("--stock-hours", choices=STOCK_HOURS, default="always",
                            help="always (default: every class ticks) or nyse (US stocks follow "
                            "New York trading hours).")
        parser.add_argument("--rate-scale", type=float, default=1.0, metavar="X",
                            help="Multiply every symbol's tick rate (default 1: realistic "
                            "rates, about 34 ticks/s for the built-in universe).")
        parser.add_argument("--faults", action="append", default=[], metavar="SPEC",
                            help="Inject dirty data into the N generated ticks, e.g. "
                            "bad_print:symbol=BTC-USD:at=1800:factor=10 (repeatable). "
                            + describe_kinds() + " Trade ids and NaN do not survive the "
                            "ticks file format (a NaN price is written as null). See "
                            "docs/dirty-data.md.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            symbols = (parse_symbols(options["symbols"]) if options["symbols"]
                       else list(DEFAULT_UNIVERSE))
            start = (parse_start(options["start"]) if options["start"]
                     else float(int(time.time())))
            injector = FaultInjector(options["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        count = options["ticks"]
        if not options["rate_scale"] > 0 or not math.isfinite(options["rate_scale"]):
            raise CommandError("--rate-scale must be a positive number")
        if count < 1:
            raise CommandError("--ticks must be at least 1")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"no such directory: {out.parent}")
        market = SyntheticMarket(symbols, seed=options["seed"], start_ts=start,
                                 stock_hours=options["stock_hours"],
                                 rate_scale=options["rate_scale"])
        span = _Span()
        began = time.perf_counter()
        clean = itertools.islice(market.ticks_until(math.inf), count)
        written = write_ticks(out, span.watch(injector.apply(clean)))
        seconds = time.perf_counter() - began
        self.stdout.write(
            f"wrote {written} ticks for {len(symbols)} symbols to {out}\n"
            f"event time: {span.describe()}\n"
            f"seconds: {seconds:.2f} ({written / max(seconds, 1e-9):,.0f} ticks/s)"
        )
        for spec, hits in injector.injected.items():
            self.stdout.write(f"fault {spec}: {hits} tick(s) hit")


class _Span:
    """Remember the first and last event time of ticks passing through :meth:`watch`."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None

    def watch(self, ticks: Iterable[Tick]) -> Iterator[Tick]:
        """Yield ``ticks`` unchanged, noting the first and last receipt time (``recv_ts``,
        which equals ``ts`` for clean ticks; a faulty timestamp must not stretch the span)."""
        for tick in ticks:
            if self.first is None:
                self.first = tick.recv_ts
            self.last = tick.recv_ts
            yield tick

    def describe(self) -> str:
        """Return ``first -> last (duration)`` in UTC ISO form."""
        if self.first is None or self.last is None:
            return "none"
        first = datetime.fromtimestamp(self.first, UTC).isoformat(timespec="seconds")
        last = datetime.fromtimestamp(self.last, UTC).isoformat(timespec="seconds")
        return f"{first} -> {last} ({self.last - self.first:,.0f} s)"
