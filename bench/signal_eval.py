"""Signal quality on constructed streams: jump masking, false alarms, gaps and regime labels.

Each scenario is a seeded random walk fed through ``Engine.on_tick`` (correlation disabled);
the numbers are counts over seeds, so they are exact and reproducible (no timing involved).

- ``jump``: crypto walk at 1e-4/sqrt(s) (~56%/yr), 2 ticks/s; after 60 min a +1.5% one-tick
  jump; 30 min later a genuine 6-sigma (one-minute sigma) up move over 5 s. Reports how many
  seeds fire a move event for the 6-sigma move, and how many events (and episodes) the jump
  itself produced in the following 10 minutes.
- ``calm``: crypto walk at 5e-4/sqrt(s) (~280%/yr), 2 ticks/s, 4 h per seed: events per
  symbol-hour (every event is a false alarm here).
- ``gap``: after 60 min, 10 minutes of silence, then a move of 3 sigma over the real 600 s
  span: how many seeds fire a critical 1-minute event.
- ``regime``: 60 constant-volatility symbols for 2 h: % of symbol-time labelled ``high_vol``
  (of all symbol-time, warm-up included) and % of time spent ``unknown``; then, per seed, vol
  tripled after 60 min: delay until ``high_vol``.
- ``sim``: the default synthetic market (pulse.feeds.synthetic, default universe, jumps on,
  stocks always open) for 2 h: share of symbols labelled ``normal`` at 30, 60, 90, 120 min.

Run: ``.venv/bin/python bench/signal_eval.py [--only jump,calm,gap,regime,sim]``.
Works against any engine version (it only uses ``on_tick``, ``snapshot``, ``regime``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulse.engine import Engine, EngineConfig, Tick

T0 = 1_722_000_000.0


class NullTracker:
    """Correlation tracker that ignores everything."""

    def observe(self, symbol: str, ts: float, price: float) -> None:
        """Ignore the tick."""


class Walk:
    """One symbol's seeded random walk fed into an engine; collects events."""

    def __init__(self, eng: Engine, symbol: str, seed: int, sigma: float,
                 rate: float = 2.0, ts: float = T0) -> None:
        self.eng = eng
        self.symbol = symbol
        self.rng = random.Random(seed)
        self.sigma = sigma
        self.rate = rate
        self.ts = ts
        self.price = 100.0
        self.events: list = []

    def tick(self, dt: float) -> None:
        """Advance ``dt`` seconds and send the current price."""
        self.ts += dt
        self.events.extend(self.eng.on_tick(Tick(self.symbol, "crypto", self.ts, self.price)))

    def step(self) -> None:
        """One random-walk tick."""
        dt = self.rng.expovariate(self.rate)
        self.price *= math.exp(self.rng.gauss(0.0, self.sigma * math.sqrt(dt)))
        self.tick(dt)

    def walk(self, seconds: float) -> None:
        """Random-walk for ``seconds``."""
        end = self.ts + seconds
        while self.ts < end:
            self.step()


OVERRIDES: dict = {}  # --config JSON: EngineConfig settings to try


def engine() -> Engine:
    """Return an engine (defaults plus ``--config``) without correlation."""
    return Engine(EngineConfig.from_mapping(OVERRIDES), tracker=NullTracker())


def scenario_jump(seeds: int) -> None:
    """6-sigma move 30 minutes after a +1.5% jump."""
    sigma = 1e-4
    fired = 0
    jump_events = []
    jump_episodes = []
    for seed in range(seeds):
        w = Walk(engine(), "BTC", seed, sigma)
        w.walk(3600)
        n0 = len(w.events)
        w.price *= 1.015
        w.tick(0.5)
        w.walk(600)
        burst = w.events[n0:]
        jump_events.append(len(burst))
        jump_episodes.append(len({getattr(e, "episode", e.id) for e in burst}))
        w.walk(1200)
        n1 = len(w.events)
        move = 6.0 * sigma * math.sqrt(60.0)
        for _ in range(10):
            w.price *= math.exp(move / 10)
            w.tick(0.5)
        w.walk(120)
        if any(e.type.startswith("move_") and e.direction == "up" for e in w.events[n1:]):
            fired += 1
    print(f"jump: 6-sigma move fired in {fired}/{seeds} seeds; events from the jump per seed "
          f"{jump_events}, distinct cards {jump_episodes}")


def scenario_calm(seeds: int, hours: float) -> None:
    """False alarms per symbol-hour on a calm random walk."""
    sigma = 5e-4
    total = 0
    kinds: dict[str, int] = {}
    for seed in range(seeds):
        w = Walk(engine(), "BTC", 1000 + seed, sigma)
        w.walk(hours * 3600)
        total += len(w.events)
        for e in w.events:
            kinds[f"{e.type}/{e.severity}"] = kinds.get(f"{e.type}/{e.severity}", 0) + 1
    sym_hours = seeds * hours
    print(f"calm: {total} events in {sym_hours:g} symbol-hours = "
          f"{total / sym_hours:.4f}/symbol-hour {dict(sorted(kinds.items()))}")


def scenario_gap(seeds: int) -> None:
    """A 3-sigma-over-600-s move after a 10-minute silence."""
    sigma = 1e-4
    crit = 0
    any_1m = 0
    for seed in range(seeds):
        w = Walk(engine(), "BTC", 2000 + seed, sigma)
        w.walk(3600)
        n0 = len(w.events)
        w.price *= math.exp(3.0 * sigma * math.sqrt(600.0))
        w.tick(600.0)
        w.walk(30)
        ev = [e for e in w.events[n0:] if e.type == "move_1m"]
        any_1m += bool(ev)
        crit += any(e.severity == "critical" for e in ev)
    print(f"gap: critical move_1m in {crit}/{seeds} seeds, any move_1m in {any_1m}/{seeds}")


def scenario_regime(n_symbols: int, hours: float, seeds: int) -> None:
    """% high_vol on constant vol, and delay to detect a 3x regime."""
    sigma = 5e-4
    eng = engine()
    walks = [Walk(eng, f"S{i:02d}", 3000 + i, sigma) for i in range(n_symbols)]
    end = T0 + hours * 3600
    counts = {"unknown": 0, "normal": 0, "high_vol": 0}
    first_high = math.inf
    t = T0
    while t < end:
        t += 10.0
        for w in walks:
            while w.ts < t:
                w.step()
            label = eng.regime(w.symbol)
            counts[label] += 1
            if label == "high_vol":
                first_high = min(first_high, w.ts - T0)
    n = sum(counts.values())
    print(f"regime constant vol ({n_symbols} symbols, {hours:g} h): high_vol "
          f"{100 * counts['high_vol'] / n:.2f}% of symbol-time, unknown "
          f"{100 * counts['unknown'] / n:.1f}%, first high_vol at {first_high / 60:.1f} min")
    delays: list[float] = []
    already = 0
    for seed in range(seeds):
        eng = engine()
        w = Walk(eng, "BTC", 4000 + seed, sigma)
        w.walk(3600)
        already += eng.regime("BTC") == "high_vol"  # a false label before the change
        w.sigma = 3 * sigma
        start = w.ts
        delay = math.inf
        while w.ts < start + 1800:
            w.step()
            if eng.regime("BTC") == "high_vol":
                delay = w.ts - start
                break
        delays.append(delay)
    delays.sort()
    within = sum(d <= 300 for d in delays)
    shown = [round(d) if math.isfinite(d) else "never (30 min)" for d in delays]
    print(f"regime 3x: detected within 5 min in {within}/{seeds} seeds ({already} already "
          f"high_vol before the change); delays (s) {shown}")


def scenario_sim(hours: float) -> None:
    """Share of ``normal`` labels on the default synthetic market."""
    from pulse.feeds.synthetic import SyntheticMarket
    from pulse.feeds.universe import DEFAULT_UNIVERSE

    eng = engine()
    market = SyntheticMarket(DEFAULT_UNIVERSE, seed=0, start_ts=T0, stock_hours="always")
    out = []
    for minute in range(30, int(hours * 60) + 1, 30):
        for tick in market.ticks_until(T0 + minute * 60):
            eng.on_tick(tick)
        labels = [eng.regime(s) for s in eng.symbols()]
        out.append(f"{minute}m: {labels.count('normal')}/{len(labels)} normal, "
                   f"{labels.count('high_vol')} high_vol")
    print(f"sim (default universe, seed 0, {eng.stats()['events']} events): " + "; ".join(out))


def main() -> None:
    """Run the selected scenarios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="jump,calm,gap,regime,sim")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--calm-seeds", type=int, default=20)
    ap.add_argument("--calm-hours", type=float, default=4.0)
    ap.add_argument("--regime-symbols", type=int, default=60)
    ap.add_argument("--regime-hours", type=float, default=2.0)
    ap.add_argument("--config", default="{}", help="JSON engine settings over the defaults")
    args = ap.parse_args()
    OVERRIDES.update(json.loads(args.config))
    only = set(args.only.split(","))
    if "jump" in only:
        scenario_jump(args.seeds)
    if "gap" in only:
        scenario_gap(args.seeds)
    if "regime" in only:
        scenario_regime(args.regime_symbols, args.regime_hours, args.seeds)
    if "sim" in only:
        scenario_sim(2.0)
    if "calm" in only:
        scenario_calm(args.calm_seeds, args.calm_hours)


if __name__ == "__main__":
    main()
