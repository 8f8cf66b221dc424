"""Cost of recording the market: ``Engine.on_tick`` alone vs with a ``Recorder`` attached as
its acceptance observer (``Recorder.attach``), on ``bench/engine_bench.py``'s stream.

Alternates the passes in one process, timed in CPU time, and reports the extra CPU per tick
over ``on_tick`` alone (median and quartiles over rounds). ``--mirror-from REV`` also times
the recorder of git revision ``REV`` that re-implemented the engine's rules
(``Recorder.observe(tick)`` called beside ``on_tick``: the pipeline's recorder up to
``f7a756f``). The recorder's database writes (``flush``) run off the hot path and are
not timed.

Run: ``.venv/bin/python bench/record_cost.py [--rounds 20] [--ticks 100000]
[--mirror-from f7a756f]``
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulse_site.settings")

import django  # noqa: E402

django.setup()

from engine_bench import NullTracker, generate, window_config  # noqa: E402

from pulse.durable.recorder import Recorder  # noqa: E402
from pulse.engine import Engine  # noqa: E402


def cpu_seconds(ticks: list, mode: str, mirror: Any = None) -> float:
    """Return the CPU seconds of one pass of a fresh engine over ``ticks``: alone
    (``none``), with the recorder attached (``attached``) or with ``mirror``'s recorder
    observing every tick beside it (``mirror``)."""
    cfg = window_config(5)
    eng = Engine(cfg, tracker=NullTracker())
    if mode == "attached":
        Recorder(cfg).attach(eng)
    on_tick = eng.on_tick
    gc.collect()
    gc.disable()
    t0 = time.process_time()
    if mode == "mirror":
        observe = mirror.Recorder(cfg).observe
        for tick in ticks:
            observe(tick)
            on_tick(tick)
    else:
        for tick in ticks:
            on_tick(tick)
    elapsed = time.process_time() - t0
    gc.enable()
    return elapsed


def load_mirror(rev: str) -> Any:
    """Import ``pulse/durable/recorder.py`` as of git revision ``rev``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:pulse/durable/recorder.py"],
                            check=True, capture_output=True).stdout
    path = Path(tempfile.mkdtemp()) / "mirror_recorder.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("mirror_recorder", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Alternate the passes; print the extra CPU per tick of each recorder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes per mode, alternated")
    parser.add_argument("--ticks", type=int, default=100_000, help="ticks in the stream")
    parser.add_argument("--mirror-from", help="git revision of a rule-mirroring recorder")
    args = parser.parse_args()
    ticks = generate(args.ticks, 18)
    mirror = load_mirror(args.mirror_from) if args.mirror_from else None
    modes = ["none", "attached"] + (["mirror"] if mirror else [])
    per_tick: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            per_tick[mode].append(cpu_seconds(ticks, mode, mirror) / len(ticks) * 1e6)
    alone = per_tick["none"]
    q1, med, q3 = statistics.quantiles(alone, n=4)
    print(f"on_tick alone: median {med:.2f} us/tick (quartiles {q1:.2f} .. {q3:.2f})")
    for mode in modes[1:]:
        extra = [b - a for a, b in zip(alone, per_tick[mode], strict=True)]
        q1, med, q3 = statistics.quantiles(extra, n=4)
        print(f"{mode}: extra median {med:+.2f} us/tick (quartiles {q1:+.2f} .. {q3:+.2f}), "
              f"{args.rounds} rounds, CPU time")


if __name__ == "__main__":
    main()
