"""Cost of the feed-side time sanity and dedupe checks; numbers for docs/feeds-*.md.

Usage (from the repository root)::

    .venv/bin/python bench/feed_time_bench.py            # 7 interleaved rounds
    .venv/bin/python bench/feed_time_bench.py --rounds 11

1. Replay: the stream clock's extra cost per tick on two hours of the synthetic market held
   in memory (iteration with and without ``follow_clock``), and reading the same ticks from
   an NDJSON file with and without it; median and range over the rounds, the variants
   interleaved so machine noise hits both.
2. Live path: ``ClockGuard.admit`` and ``OverlapDedupe.admit`` per tick (ns), on the
   recording's ticks with their real receipt times.

Pure Python; numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulse.engine.tick import Tick
from pulse.feeds.base import FeedCounters
from pulse.feeds.clock import ClockGuard
from pulse.feeds.overlap import OverlapDedupe
from pulse.feeds.replay import (
    ReplayStats,
    _parse_binance,
    _parse_ticks,
    merge_by_time,
    read_ticks,
    write_ticks,
)
from pulse.feeds.stream_clock import follow_clock
from pulse.feeds.synthetic import SyntheticMarket
from pulse.feeds.universe import DEFAULT_UNIVERSE

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-2024-08-08"
T0 = 1_723_161_600.0


def _count(make: Callable[[], Iterator[Tick]]) -> tuple[int, float]:
    began = time.perf_counter()
    n = sum(1 for _ in make())
    return n, time.perf_counter() - began


def _spread(label: str, rates: list[float]) -> str:
    return (f"{label:<34} median {statistics.median(rates):>10,.0f} ticks/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}, n={len(rates)})")


def bench_replay(rounds: int) -> None:
    """Print the stream clock's cost per tick, in memory and on reading an NDJSON file."""
    market = SyntheticMarket(DEFAULT_UNIVERSE, seed=1, start_ts=T0, stock_hours="always")
    ticks = list(market.ticks_until(T0 + 2 * 3600))

    def raw() -> Iterator[Tick]:
        yield from ticks

    extra = []
    for _ in range(rounds):
        _, plain = _count(raw)
        _, checked = _count(lambda: follow_clock(raw(), ReplayStats()))
        extra.append((checked - plain) / len(ticks) * 1e9)
    print(f"stream clock, in memory [{len(ticks):,} ticks]: median "
          f"{statistics.median(extra):+.0f} ns/tick (min {min(extra):+.0f}, "
          f"max {max(extra):+.0f}, n={rounds})")
    with tempfile.TemporaryDirectory() as tmp:
        ndjson = Path(tmp) / "ticks.ndjson"
        write_ticks(ndjson, ticks)
        variants: dict[str, Callable[[], Iterator[Tick]]] = {
            "ndjson raw parse": lambda: _parse_ticks(ndjson, ReplayStats()),
            "ndjson + stream clock": lambda: read_ticks(ndjson, ReplayStats()),
        }
        rates: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, make in variants.items():
                n, seconds = _count(make)
                rates[name].append(n / seconds)
        for name, values in rates.items():
            print(_spread(f"{name} [{len(ticks):,}]", values))
        cost = [1 - c / r for r, c in zip(*rates.values(), strict=True)]
        print(f"  reading cost of the stream clock: median {statistics.median(cost):+.1%} "
              f"(min {min(cost):+.1%}, max {max(cost):+.1%})")


def bench_live(rounds: int) -> None:
    """Print the per-tick cost of ClockGuard and OverlapDedupe on recorded ticks."""
    files = sorted(DATA.glob("*.gz"))
    if not files:
        print(f"(no recording at {DATA}: live-path rows skipped)")
        return
    recorded = list(merge_by_time([_parse_binance(f, ReplayStats()) for f in files]))
    for name, admit_of in (("ClockGuard.admit", lambda: ClockGuard(FeedCounters()).admit),
                           ("OverlapDedupe.admit", lambda: OverlapDedupe().admit)):
        costs = []
        for _ in range(rounds):
            admit = admit_of()
            fresh = [Tick(t.symbol, t.asset, t.ts, t.price, recv_ts=t.recv_ts, size=t.size)
                     for t in recorded]
            began = time.perf_counter()
            for t in fresh:
                admit(t)
            costs.append((time.perf_counter() - began) / len(fresh) * 1e9)
        print(f"{name:<22} median {statistics.median(costs):6.0f} ns/tick "
              f"(min {min(costs):.0f}, max {max(costs):.0f}, n={rounds}, "
              f"{len(recorded):,} ticks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    bench_replay(args.rounds)
    bench_live(args.rounds)


if __name__ == "__main__":
    main()
