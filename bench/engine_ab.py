"""Before/after cost of an engine change: alternate runs of a base git revision's engine and
of this working tree's engine on the same generated stream (``bench/engine_bench.py``'s
generator and window configs), and report each side's median and range of CPU time per tick
(process time, so that time spent descheduled on a shared machine does not count; still
noisy: spreads, not best runs).

Run: ``.venv/bin/python bench/engine_ab.py --base d3203a6 [--rounds 8] [--ticks 300000]``
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(base: str, into: Path) -> None:
    """Write the ``pulse`` and ``bench`` trees of revision ``base`` into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, "pulse", "bench"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def one_run(tree: Path, ticks: int) -> dict[int, float]:
    """Return {window minutes: ticks/s of CPU time} of one pass of ``tree``'s engine, run in
    a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--worker", str(tree), "--ticks",
                          str(ticks)], check=True, capture_output=True, text=True).stdout
    return {int(k): v for k, v in json.loads(out).items()}


def worker(tree: Path, n_ticks: int) -> None:
    """Time ``tree``'s ``Engine.on_tick`` over this tree's bench stream; print JSON."""
    sys.path.insert(0, str(tree))
    from pulse.engine import Engine  # the tree's engine, on purpose

    spec = importlib.util.spec_from_file_location("engine_bench", ROOT / "bench" /
                                                  "engine_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # its ``pulse`` import resolves to the tree's package
    ticks = bench.generate(n_ticks, 18)
    rates = {}
    for minutes in (5, 60):
        eng = Engine(bench.window_config(minutes), tracker=bench.NullTracker())
        on_tick = eng.on_tick
        gc.collect()
        gc.disable()
        t0 = time.process_time()
        for tick in ticks:
            on_tick(tick)
        rates[minutes] = len(ticks) / (time.process_time() - t0)
        gc.enable()
    print(json.dumps(rates))


def main() -> None:
    """Alternate base and working-tree runs and print medians, ranges and the change."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=8, help="runs per side, alternated")
    parser.add_argument("--ticks", type=int, default=300_000, help="ticks per run")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.ticks)
        return
    if not args.base:
        parser.error("--base is required")
    results: dict[str, dict[int, list[float]]] = {"base": {}, "tree": {}}
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp)
        export(args.base, base_tree)
        for _ in range(args.rounds):
            for side, tree in (("base", base_tree), ("tree", ROOT)):
                for minutes, rate in one_run(tree, args.ticks).items():
                    results[side].setdefault(minutes, []).append(rate)
    for minutes in sorted(results["base"]):
        base = results["base"][minutes]
        tree = results["tree"][minutes]
        mb, mt = statistics.median(base), statistics.median(tree)
        # Each round's base and tree runs ran back to back: their ratio cancels slow drifts
        # of the machine's load.
        ratios = sorted(100 * (t / b - 1) for b, t in zip(base, tree, strict=True))
        q1, q2, q3 = statistics.quantiles(ratios, n=4)
        print(f"{minutes:>2}-minute windows: base {mb:,.0f} ticks/s "
              f"(range {min(base):,.0f}-{max(base):,.0f}), this tree {mt:,.0f} "
              f"(range {min(tree):,.0f}-{max(tree):,.0f}); paired change median {q2:+.1f}% "
              f"(quartiles {q1:+.1f}% .. {q3:+.1f}%) over {len(base)} rounds (CPU time)")


if __name__ == "__main__":
    main()
