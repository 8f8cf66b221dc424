"""Before/after cost of an engine change: load a base git revision's engine and this working
tree's engine side by side in one process, run both on the same generated stream
(``bench/engine_bench.py``'s generator and window configs) in alternation, and report the
change as the median and quartiles of the per-round ratios. Back-to-back short runs in one
process, timed in CPU time, cancel most of a shared machine's load swings; still, report the
spread, not the best run.

Run: ``.venv/bin/python bench/engine_ab.py --base d3203a6 [--tree REV] [--rounds 30]
[--ticks 200000]`` (``--tree`` compares another revision instead of the working tree).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def export(base: str, into: Path) -> None:
    """Write the ``pulse`` tree of revision ``base`` into directory ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, "pulse"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def load_engine(tree: Path) -> Any:
    """Import ``pulse.engine`` from ``tree`` (a fresh copy of the package each time, so two
    trees' engines can live side by side)."""
    for name in [m for m in sys.modules if m == "pulse" or m.startswith("pulse.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        return importlib.import_module("pulse.engine")
    finally:
        sys.path.remove(str(tree))


def load_bench() -> Any:
    """Import ``bench/engine_bench.py`` of this tree (stream generator, window configs)."""
    spec = importlib.util.spec_from_file_location("engine_bench", ROOT / "bench" /
                                                  "engine_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same_config(engine_mod: Any, cfg: Any) -> Any:
    """Return ``engine_mod``'s own EngineConfig with the bench's window settings."""
    names = ("return_horizons", "vol_window", "trend_window", "spike_window", "baseline_lag")
    return engine_mod.EngineConfig(**{name: getattr(cfg, name) for name in names})


def cpu_rate(engine_mod: Any, cfg: Any, tracker: Any, ticks: list) -> float:
    """Return ticks per CPU second of one pass of a fresh engine over ``ticks``."""
    eng = engine_mod.Engine(same_config(engine_mod, cfg), tracker=tracker)
    on_tick = eng.on_tick
    gc.collect()
    gc.disable()
    t0 = time.process_time()
    for tick in ticks:
        on_tick(tick)
    elapsed = time.process_time() - t0
    gc.enable()
    return len(ticks) / elapsed


def main() -> None:
    """Alternate base and working-tree passes and print rates and the paired change."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--tree", help="git revision to measure (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=30, help="passes per side, alternated")
    parser.add_argument("--ticks", type=int, default=200_000, help="ticks in the stream")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export(args.base, Path(tmp) / "base")
        base_mod = load_engine(Path(tmp) / "base")
        tree = ROOT
        if args.tree:
            tree = Path(tmp) / "tree"
            export(args.tree, tree)
        tree_mod = load_engine(tree)  # loaded last: the bench module imports this one
        bench = load_bench()
        ticks = bench.generate(args.ticks, 18)
        for minutes in (5, 60):
            cfg = bench.window_config(minutes)
            base: list[float] = []
            tree: list[float] = []
            for r in range(args.rounds):
                # Swap which side goes first every round so neither always runs warmer.
                order = ((base_mod, base), (tree_mod, tree))
                for mod, out in order if r % 2 == 0 else order[::-1]:
                    out.append(cpu_rate(mod, cfg, bench.NullTracker(), ticks))
            ratios = [100 * (t / b - 1) for b, t in zip(base, tree, strict=True)]
            q1, q2, q3 = statistics.quantiles(ratios, n=4)
            print(f"{minutes:>2}-minute windows: base {statistics.median(base):,.0f} ticks/s "
                  f"(range {min(base):,.0f}-{max(base):,.0f}), this tree "
                  f"{statistics.median(tree):,.0f} (range {min(tree):,.0f}-{max(tree):,.0f}); "
                  f"paired change median {q2:+.1f}% (quartiles {q1:+.1f}% .. {q3:+.1f}%), "
                  f"{args.rounds} rounds, CPU time")


if __name__ == "__main__":
    main()
