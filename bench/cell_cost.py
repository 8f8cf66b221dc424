"""Cost of ``Engine.on_tick`` on sparse symbols, where the once-per-cell work dominates.

20 crypto symbols at 1 tick/s each (about one grid cell closed per tick), correlation off.
Wall-clock rates on a shared machine are noisy; for a deterministic comparison count
instructions under callgrind and subtract a run with ``--repeat 0`` (stream generation and
imports only)::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/cell_cost.py --ticks 40000 --repeat 1
    valgrind ... .venv/bin/python bench/cell_cost.py --ticks 40000 --repeat 0

``--root DIR`` imports ``pulse`` from another checkout, e.g. the commit before a change:
``git archive <commit> pulse | tar -x -C /tmp/before`` then ``--root /tmp/before``.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
from pathlib import Path


def main() -> None:
    """Generate the stream, replay it ``--repeat`` times and print ticks/s per pass."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    args = ap.parse_args()
    sys.path.insert(0, args.root)
    from pulse.engine import Engine, EngineConfig, Tick

    class NullTracker:
        def observe(self, symbol: str, ts: float, price: float) -> None:
            """Ignore the tick."""

    rng = random.Random(1)
    prices = [100.0] * 20
    ticks = []
    ts = 1.7e9
    for _ in range(args.ticks):
        ts += rng.expovariate(20.0)
        i = rng.randrange(20)
        prices[i] *= math.exp(rng.gauss(0.0, 5e-4))
        ticks.append(Tick(f"S{i}", "crypto", ts, prices[i]))
    rates = []
    for _ in range(args.repeat):
        eng = Engine(EngineConfig(), tracker=NullTracker())
        on_tick = eng.on_tick
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        for tick in ticks:
            on_tick(tick)
        rates.append(len(ticks) / (time.perf_counter() - t0))
        gc.enable()
    print(f"{args.root}: " + ", ".join(f"{r:,.0f}" for r in rates) + " ticks/s")


if __name__ == "__main__":
    main()
