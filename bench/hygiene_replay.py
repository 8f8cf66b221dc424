"""The engine's input defences on the real Binance recording: how many trades repeat the
previous trade's (ts, price, size) (what the removed dedupe rule dropped), and what the
engine accepts, holds, confirms and rejects with and without provider trade ids.

Run: ``.venv/bin/python bench/hygiene_replay.py [--data ../shared/data/binance-spot-2024-08-08]``
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulse.engine import Engine
from pulse.feeds.replay import merge_by_time, read_binance

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-2024-08-08"


class NullTracker:
    """Correlation tracker that ignores everything."""

    def observe(self, symbol: str, ts: float, price: float) -> None:
        """Ignore the tick."""


def main() -> None:
    """Load the recording, count repeats, run the engine with and without ids, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT, help="recording directory")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.gz"))
    if not files:
        sys.exit(f"no recording in {args.data}")
    ticks = list(merge_by_time(read_binance(f) for f in files))
    per_symbol = Counter(t.symbol for t in ticks)
    repeats: Counter[str] = Counter()
    last: dict[str, tuple] = {}
    for t in ticks:
        key = (t.ts, t.price, t.size)
        repeats[t.symbol] += last.get(t.symbol) == key
        last[t.symbol] = key
    for symbol in sorted(per_symbol):
        print(f"{symbol}: {per_symbol[symbol]:,} trades, {repeats[symbol]:,} "
              f"({100 * repeats[symbol] / per_symbol[symbol]:.1f}%) repeat the previous "
              f"trade's (ts, price, size)")
    ids = [t.trade_id for t in ticks]
    for label, strip in (("with trade ids", False), ("without trade ids", True)):
        for t, trade_id in zip(ticks, ids, strict=True):
            t.trade_id = None if strip else trade_id
        eng = Engine(tracker=NullTracker())
        for t in ticks:
            eng.on_tick(t)
        s = eng.stats()
        rejected = {k: v for k, v in s["rejected"].items() if v}
        print(f"{label}: accepted {s['accepted']:,} of {len(ticks):,}, rejected {rejected}, "
              f"held {s['held']}, confirmed {s['confirmed']}, late {s['late_accepted']}")


if __name__ == "__main__":
    main()
