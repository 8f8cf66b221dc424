"""Dirty-data evaluation: one scenario per failure mode of issue 12, numbers in one table.

Every scenario builds a deterministic stream (the seeded synthetic market, jumps off, plus
faults from ``pulse.feeds.faults``; or the real Binance recording in ``../shared/data``),
runs it through a fresh ``Engine`` and measures what a user would see. Only public engine
API is read (``on_tick``, ``snapshots``, ``stats``, ``correlation``, events via
``to_dict()``), and symbols are found by their snapshot's ``symbol``/``asset`` fields, so
the script keeps working while the engine changes underneath (new fields are ignored).

Run all scenarios (the table in docs/dirty-data.md comes from this):

    .venv/bin/python bench/dirty_eval.py

or one: ``--only bad_print`` (names: ``--list``). Prints a markdown table and the runtime.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pulse.engine import Engine, Tick  # noqa: E402
from pulse.feeds.base import SymbolRef  # noqa: E402
from pulse.feeds.faults import FaultInjector  # noqa: E402
from pulse.feeds.replay import read_binance  # noqa: E402
from pulse.feeds.synthetic import CLASS_MODELS, SyntheticMarket  # noqa: E402
from pulse.feeds.universe import profile  # noqa: E402

T0 = 1_767_625_200.0  # 2026-01-05 15:00 UTC
BINANCE = REPO.parent / "shared" / "data" / "binance-spot-2024-08-08"
BTC = SymbolRef("crypto", "BTC-USD")
ETH = SymbolRef("crypto", "ETH-USD")
SOL = SymbolRef("crypto", "SOL-USD")
SAMPLE = 10.0  # seconds of event time between probes


# -- streams and runs -----------------------------------------------------------------------


def market(refs: Iterable[SymbolRef], seconds: float, seed: int = 1,
           rate_scale: float = 1.0) -> list[Tick]:
    """Return ``seconds`` of the seeded synthetic market (no jumps: a calm, constant-vol
    stream whose only surprises are the faults a scenario adds)."""
    m = SyntheticMarket(refs, seed=seed, start_ts=T0, stock_hours="always",
                        rate_scale=rate_scale, jumps=0.0)
    return list(m.ticks_until(T0 + seconds))


def dirty(ticks: list[Tick], *specs: str) -> list[Tick]:
    """Return ``ticks`` with the fault specs applied."""
    return list(FaultInjector(specs).apply(ticks))


def sigma_per_second(ref: SymbolRef) -> float:
    """Return the synthetic market's diffusive volatility of ``ref`` per sqrt(second)."""
    return profile(ref).annual_vol / math.sqrt(CLASS_MODELS[ref.asset].seconds_per_year)


@dataclass
class Run:
    """One stream through a fresh engine: events and periodic probes by event time."""

    engine: Engine
    events: list[dict[str, Any]] = field(default_factory=list)
    probes: dict[float, Any] = field(default_factory=dict)  # rel time -> probe result


def run(ticks: Iterable[Tick], probe: Callable[[Engine], Any] | None = None,
        every: float = SAMPLE, on_tick: Callable[[Engine, Tick], None] | None = None) -> Run:
    """Feed ``ticks`` to a new engine; call ``probe`` every ``every`` s of receipt time."""
    engine = Engine()
    out = Run(engine)
    next_probe = T0 + every
    for tick in ticks:
        # A faulty receipt time far ahead (a "blind" future stamp) must not run the probe
        # clock to the end of time: the stream's clock is its plausible receipt times.
        if probe is not None and tick.recv_ts - next_probe < 3600.0:
            while tick.recv_ts >= next_probe:
                out.probes[round(next_probe - T0, 6)] = probe(engine)
                next_probe += every
        for event in engine.on_tick(tick):
            out.events.append(event.to_dict())
        if on_tick is not None:
            on_tick(engine, tick)
    return out


def snaps_of(engine: Engine, ref: SymbolRef | str) -> list[dict[str, Any]]:
    """Return every snapshot whose ``symbol`` is ``ref``'s (and asset, for a SymbolRef)."""
    symbol = ref if isinstance(ref, str) else ref.symbol
    asset = None if isinstance(ref, str) else ref.asset
    return [s for s in engine.snapshots().values()
            if s.get("symbol") == symbol and (asset is None or s.get("asset") == asset)]


def snap(engine: Engine, ref: SymbolRef) -> dict[str, Any]:
    """Return the snapshot of ``ref`` (empty if it never ticked)."""
    found = snaps_of(engine, ref)
    return found[0] if found else {}


def key_of(engine: Engine, ref: SymbolRef) -> str | None:
    """Return the engine's key for ``ref`` (a plain symbol today; maybe ``class:SYM``)."""
    for key, s in engine.snapshots().items():
        if s.get("symbol") == ref.symbol and s.get("asset") == ref.asset:
            return key
    return None


def pair_corr(engine: Engine, a: SymbolRef, b: SymbolRef) -> float | None:
    """Return the engine's correlation of ``a`` and ``b`` (default window and method)."""
    ka, kb = key_of(engine, a), key_of(engine, b)
    if ka is None or kb is None:
        return None
    return engine.correlation([ka, kb], base=ka)["matrix"][0][1]


def of(events: list[dict[str, Any]], symbol: str, start: float = -math.inf,
       end: float = math.inf) -> list[dict[str, Any]]:
    """Return the events of ``symbol`` with ``start <= ts - T0 < end``."""
    return [e for e in events if e["symbol"] == symbol and start <= e["ts"] - T0 < end]


def rel_err(x: float | None, ref: float | None) -> float:
    """Return |x / ref - 1| (inf when one of them is missing)."""
    if x is None or ref is None or ref == 0:
        return math.inf
    return abs(x / ref - 1.0)


def pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:,.1f}%"


def describe(events: list[dict[str, Any]]) -> str:
    """Return ``n (k critical; types)`` for a list of events."""
    if not events:
        return "0"
    crit = sum(e["severity"] == "critical" for e in events)
    types = Counter(e["type"] for e in events)
    return f"{len(events)} ({crit} critical; " + ", ".join(
        f"{n} {t}" for t, n in sorted(types.items())) + ")"


Row = tuple[str, str, str]  # failure mode, measurement, value


# -- scenarios ------------------------------------------------------------------------------


def identity() -> list[Row]:
    """SOL-USD crypto plus a second instrument typed as forex SOL-USD at 1/128 the price."""
    clean = market([SOL, BTC], 2 * 3600, seed=3)
    mixed = dirty(clean, "alias:symbol=SOL-USD:asset=forex:scale=0.0078125:at=1800")

    def probe(engine: Engine) -> float:
        rets = [abs(s["ret_5m"]) for s in snaps_of(engine, "SOL-USD")
                if s.get("ret_5m") is not None]
        return max(rets, default=0.0)

    base = run(clean, probe)
    bad = run(mixed, probe)
    crypto_vol = max((snap(bad.engine, SOL).get("vol_15m") or 0.0), 0.0)
    return [
        ("symbol identity", "max abs ret_5m of SOL-USD, clean / two classes mixed",
         f"{pct(max(base.probes.values()))} / {pct(max(bad.probes.values()))}"),
        ("symbol identity", "SOL-USD events, clean / mixed (1.5 h after the alias appears)",
         f"{describe(of(base.events, 'SOL-USD', 1800))} / "
         f"{describe(of(bad.events, 'SOL-USD', 1800))}"),
        ("symbol identity", "crypto SOL-USD vol_15m at the end, mixed (true 85%)",
         pct(crypto_vol)),
    ]


BAD_PRINTS = (("x10", "factor=10"), ("x0.1", "factor=0.1"), ("1e300", "price=1e300"),
              ("1e-300", "price=1e-300"))
PRINT_AT = 3600.0  # one hour of warm-up first


def bad_print() -> list[Row]:
    """One bad BTC print, the last tick of its cell, after an hour; 3 h of aftermath."""
    clean = market([BTC, ETH], PRINT_AT + 3 * 3600 + 60, seed=5)

    def probe(engine: Engine) -> tuple:
        s = snap(engine, BTC)
        return (s.get("vol_15m"), s.get("vol_baseline"), s.get("regime"),
                pair_corr(engine, BTC, ETH))

    base = run(clean, probe)
    rows: list[Row] = []
    for name, param in BAD_PRINTS:
        spec = f"bad_print:symbol=BTC-USD:at={PRINT_AT:g}:{param}:last=1"
        try:
            bad = run(dirty(clean, spec), probe)
        except Exception as exc:  # the engine raised: that is the measurement
            rows.append((f"bad print {name}", "engine", f"raised {type(exc).__name__}: {exc}"))
            continue

        def worst(i: int, start: float, end: float, _bad: Run = bad) -> float:
            return max((rel_err(_bad.probes[t][i], base.probes[t][i])
                        for t in base.probes if start <= t - PRINT_AT < end
                        and t in _bad.probes), default=math.nan)

        def corr_err(start: float, end: float, _bad: Run = bad) -> float:
            errs = [abs(_bad.probes[t][3] - base.probes[t][3]) for t in base.probes
                    if start <= t - PRINT_AT < end and t in _bad.probes
                    and _bad.probes[t][3] is not None and base.probes[t][3] is not None]
            return max(errs, default=math.nan)

        after = [t for t in base.probes if t > PRINT_AT and t in bad.probes]
        disagree = sum(bad.probes[t][2] != base.probes[t][2] for t in after)
        end = max(after)
        events_bad = of(bad.events, "BTC-USD", PRINT_AT)
        events_base = of(base.events, "BTC-USD", PRINT_AT)
        late_base = rel_err(bad.probes[end][1], base.probes[end][1])
        rows += [
            (f"bad print {name}", "BTC events after the print (clean stream: "
             f"{len(events_base)})", describe(events_bad)),
            (f"bad print {name}", "max rel. error of vol_15m, next 15 min / at +3 h",
             f"{pct(worst(0, 0, 900))} / {pct(rel_err(bad.probes[end][0], base.probes[end][0]))}"),
            (f"bad print {name}", "rel. error of vol_baseline, max next 15 min / at +3 h",
             f"{pct(worst(1, 0, 900))} / {pct(late_base)}"),
            (f"bad print {name}", "regime differs from clean, % of the next 3 h",
             pct(disagree / len(after))),
            (f"bad print {name}", "max abs error of BTC/ETH correlation, first 15 min / "
             "15 min to 3 h after "
             f"(clean ~{statistics.fmean(p[3] for p in base.probes.values() if p[3]):.2f})",
             f"{corr_err(0, 900):.3f} / {corr_err(900, 3 * 3600 + 60):.3f}"),
        ]
    return rows


def future_tick() -> list[Row]:
    """One BTC tick stamped 3,500 s after its receipt, an hour in; and one stamped 1e300 in
    a stream without receipt times (a replay file); 2 h afterwards."""
    clean = market([BTC, ETH], 3 * 3600, seed=7)
    at = 3600.0

    def probe(engine: Engine) -> tuple:
        s = snap(engine, BTC)
        return s.get("last"), s.get("staleness")

    base = run(clean, probe)
    rows: list[Row] = []
    for label, spec in (("+3,500 s", f"future:symbol=BTC-USD:at={at:g}:ahead=3500"),
                        ("ts 1e300, replay", f"future:symbol=BTC-USD:at={at:g}:ahead=1e300"
                                             ":blind=1")):
        bad = run(dirty(clean, spec), probe)
        frozen = [t for t in bad.probes if t > at + SAMPLE
                  and bad.probes[t][0] != base.probes[t][0]]
        first_ok = min((t for t in bad.probes if t > at + SAMPLE and t not in frozen),
                       default=None)
        span = max(bad.probes) - at
        # Probes run every SAMPLE seconds: no differing probe means never wrong at a probe.
        frozen_for = (f">= {span:,.0f} s (to the end)" if first_ok is None
                      else f"0 s (no probe of {len(bad.probes)} differs)" if not frozen
                      else f"{first_ok - at:,.0f} s")
        stale = [bad.probes[t][1] or 0.0 for t in frozen]
        rejected = {k: v for k, v in bad.engine.stats()["rejected"].items() if v}
        rows.append((f"future-stamped tick ({label})", "seconds BTC shows a wrong last "
                     "price / max staleness shown meanwhile / rejections",
                     f"{frozen_for} / " + ("n/a" if not stale else f"{max(stale):,.1f} s")
                     + f" / {rejected}"))
    return rows


def level_shift() -> list[Row]:
    """A genuine +5% BTC level shift after an hour, confirmed by every later tick: how soon
    does ``last`` show it, and does it fire? (A bad-print filter must not eat it.)"""
    shift_at = 3600.0
    clean = market([BTC, ETH], shift_at + 900, seed=23)
    start = clean[0].recv_ts
    before = [t.price for t in clean if t.symbol == "BTC-USD" and t.recv_ts - start < shift_at]
    level = before[-1]
    seen: dict[str, float] = {}

    def check(engine: Engine, tick: Tick) -> None:
        if tick.symbol != "BTC-USD" or tick.recv_ts - start < shift_at or "shown" in seen:
            return
        seen.setdefault("first", tick.ts)
        if (snap(engine, BTC).get("last") or 0.0) > level * 1.03:
            seen["shown"] = tick.ts

    r = run(dirty(clean, f"jump:symbol=BTC-USD:at={shift_at:g}:pct=5"), on_tick=check)
    delay = ("never" if "shown" not in seen
             else f"{seen['shown'] - seen['first']:.1f} s")
    fired = of(r.events, "BTC-USD", shift_at, shift_at + 60)
    return [("genuine +5% level shift", "seconds until last shows it / events in the next "
             "60 s", f"{delay} / {describe(fired)}")]


def extremes() -> list[Row]:
    """Absurd but positive finite prices after 20 minutes of a calm BTC: accepted? raises?"""
    clean = market([BTC], 1200, seed=19)
    rows: list[Row] = []
    for price in (5e-324, 1e-320, 1.7e308):
        engine = Engine()
        for tick in clean:
            engine.on_tick(tick)
        last = clean[-1]
        outcome = "ok"
        try:
            for k in range(1, 4):
                engine.on_tick(Tick("BTC-USD", "crypto", last.ts + k, price))
        except Exception as exc:
            outcome = f"raised {type(exc).__name__} ({exc})"
        accepted = engine.stats()["accepted"] - len(clean)
        rows.append(("absurd prices accepted", f"price {price:g} three times after 20 min: "
                     "accepted / engine", f"{accepted} of 3 / {outcome}"))
    return rows


def late_tick() -> list[Row]:
    """20 BTC ticks delivered 1 s late (behind newer ticks): do they become ``last``?"""
    clean = market([BTC], 3600, seed=9)
    stream = dirty(clean, "late:symbol=BTC-USD:at=600:delay=1:count=20:every=120")
    hits = Counter()
    newest: dict[str, float] = {"ts": -math.inf, "price": math.nan}

    def check(engine: Engine, tick: Tick) -> None:
        if tick.recv_ts - tick.ts >= 0.999:
            hits["late"] += 1
            last = snap(engine, BTC).get("last")
            # Wrong: the late (older) price shows instead of the newest one delivered.
            hits["wrong"] += last == tick.price != newest["price"]
        elif tick.ts >= newest["ts"]:
            newest["ts"], newest["price"] = tick.ts, tick.price

    run(stream, on_tick=check)
    return [("late tick (1 s)", "late ticks that replaced a newer last price, of delivered",
             f"{hits['wrong']} of {hits['late']}")]


def binance_duplicates() -> list[Row]:
    """The real Binance recording with trade ids stripped: genuine trades dropped."""
    files = [BINANCE / "btcusdt_20240808.gz", BINANCE / "ethusdt_20240808.gz"]
    if not all(f.is_file() for f in files):
        return [("genuine trades dropped as duplicates", "Binance recording",
                 f"skipped: not found under {BINANCE}")]
    rows = []
    for label, specs in (("with ids", ()), ("ids stripped", ("strip_ids",))):
        engine = Engine()
        total = 0
        for path in files:
            for tick in FaultInjector(specs).apply(read_binance(path)):
                engine.on_tick(tick)
                total += 1
        dup = engine.stats()["rejected"].get("duplicate", 0)
        rows.append(("genuine trades dropped as duplicates",
                     f"Binance BTC+ETH, {label}: rejected as duplicate of {total:,}",
                     f"{dup:,} ({pct(dup / total)})"))
    return rows


def _move_fired(seed: int, with_jump: bool) -> tuple[bool, list[dict[str, Any]]]:
    """Return whether a 6-sigma 1-minute move 30 min after a +1.5% jump fires, and the
    events of the 15 minutes after the jump."""
    jump_at, move_at = 5400.0, 5400.0 + 1800.0
    clean = market([BTC], move_at + 600, seed=seed)
    move = math.expm1(6.0 * sigma_per_second(BTC) * math.sqrt(60.0)) * 100
    specs = [f"jump:symbol=BTC-USD:at={move_at:g}:pct={move:.6f}"]
    if with_jump:
        specs.insert(0, f"jump:symbol=BTC-USD:at={jump_at:g}:pct=1.5")
    r = run(dirty(clean, *specs))
    fired = any(e["type"].startswith("move_") and e["direction"] == "up"
                for e in of(r.events, "BTC-USD", move_at, move_at + 120))
    return fired, of(r.events, "BTC-USD", jump_at, jump_at + 900)


def jumps() -> list[Row]:
    """Jump masking (10 seeds), cards per jump, and calm false alarms per symbol-hour."""
    seeds = range(1, 11)
    masked = [_move_fired(s, True) for s in seeds]
    control = [_move_fired(s, False)[0] for s in seeds]
    cards = [len(ev) for _, ev in masked]
    kinds = Counter(e["type"] for _, ev in masked for e in ev)
    calm_refs = [SymbolRef("crypto", f"CALM{i:02d}-USD") for i in range(20)]
    calm = run(market(calm_refs, 5 * 3600, seed=11, rate_scale=0.8))
    hours = 4 * len(calm_refs)  # the first hour is warm-up and not counted
    alarms = [e for e in calm.events if e["ts"] - T0 >= 3600]
    return [
        ("jump masks later moves", "6-sigma 1 m move 30 min after a +1.5% jump fires, "
         "seeds (without the jump)",
         f"{sum(f for f, _ in masked)} of 10 ({sum(control)} of 10)"),
        ("one shock, many cards", "events in the 15 min after one +1.5% jump "
         "(mean over 10 seeds; types)",
         f"{statistics.fmean(cards):.1f} (" + ", ".join(
             f"{n} {t}" for t, n in sorted(kinds.items())) + ")"),
        ("calm false alarms", "events on calm constant-vol data, 20 symbols x 4 h at "
         "2 ticks/s: count in symbol-hours (per symbol-hour)",
         f"{describe(alarms)} in {hours} ({len(alarms) / hours:.3f})"),
    ]


def stale_reference() -> list[Row]:
    """After a 10-minute silence, a move of 3 sigma over its real 600 s span."""
    out = []
    for seed in range(1, 6):
        gap_at, gap = 5400.0, 600.0
        clean = market([BTC], gap_at + gap + 300, seed=seed)
        start = clean[0].recv_ts  # fault times count from the first tick, as in faults.py
        before = [t for t in clean if t.recv_ts - start < gap_at][-1]
        after = next(t for t in clean if t.recv_ts - start >= gap_at + gap)
        target = before.price * math.exp(3.0 * sigma_per_second(BTC) * math.sqrt(gap))
        shift = (target / after.price - 1.0) * 100
        stream = dirty(clean, f"gap:symbol=BTC-USD:at={gap_at:g}:duration={gap:g}",
                       f"jump:symbol=BTC-USD:at={gap_at + gap:g}:pct={shift:.8f}")
        r = run(stream)
        fired = of(r.events, "BTC-USD", gap_at + gap, gap_at + gap + 5)
        out.append(fired)
    worst = [max(ev, key=lambda e: (e["severity"] == "critical", abs(e["z"] or 0)))
             for ev in out if ev]
    kinds = Counter(f"{e['severity']} {e['type']}" for e in worst)
    zs = [abs(e["z"]) for e in worst if e["z"] is not None]
    text = (", ".join(f"{n}x {k}" for k, n in sorted(kinds.items())) or "nothing") + (
        f" (abs z {min(zs):.1f}-{max(zs):.1f})" if zs else "")
    return [("stale reference", "after a 10 min silence, a 3-sigma-over-600 s move: what "
             "fires, 5 seeds", text)]


def regime() -> list[Row]:
    """Regime labels on constant-vol data (60 symbols) and delay to detect a true 3x."""
    refs = [SymbolRef("crypto", f"SYN{i:02d}-USD") for i in range(60)]
    ticks = market(refs, 3660, seed=13, rate_scale=0.4)  # probes through minute 60

    def labels(engine: Engine) -> Counter:
        return Counter(s.get("regime") for s in engine.snapshots().values())

    r = run(ticks, labels, every=60.0)
    per_minute = {round(t / 60): c.get("high_vol", 0) for t, c in r.probes.items()}
    labelled = sum(c.get("high_vol", 0) + c.get("normal", 0) for c in r.probes.values())
    high = sum(c.get("high_vol", 0) for c in r.probes.values())
    worst_minute = max(per_minute, key=per_minute.get)
    rows = [
        ("regime cries wolf", "constant vol, 60 symbols x 1 h: high_vol % of labelled "
         "symbol-time", pct(high / labelled) if labelled else "n/a"),
        ("regime cries wolf", "symbols (of 60) high_vol at minute 8 / 10 / 15 / 20 / 24 / "
         "30 / 45 / 60; worst minute",
         " / ".join(str(per_minute.get(m, 0)) for m in (8, 10, 15, 20, 24, 30, 45, 60))
         + f"; {per_minute[worst_minute]} at minute {worst_minute}"),
    ]
    # A true 3x volatility regime, 20 min long, on 10 warm symbols.
    regime_at = 5400.0
    refs = [SymbolRef("crypto", f"REG{i}-USD") for i in range(10)]
    clean = market(refs, regime_at + 1500, seed=17, rate_scale=0.5)
    stream = dirty(clean, f"vol:symbol=*:at={regime_at:g}:duration=1200:factor=3")
    seen: dict[str, float] = {}

    def watch(engine: Engine) -> None:
        for s in engine.snapshots().values():
            if s.get("regime") == "high_vol":
                seen.setdefault(s["symbol"], engine.now or 0.0)

    run(stream, lambda e: watch(e) if (e.now or 0) - T0 >= regime_at else None, every=5.0)
    delays = sorted(seen[s.symbol] - T0 - regime_at for s in refs if s.symbol in seen)
    rows.append(("regime misses a true 3x", "delay to high_vol after a 3x vol regime starts "
                 "(10 symbols): detected / median / max",
                 f"{len(delays)} of 10 / " + (f"{statistics.median(delays):.0f} s / "
                                               f"{max(delays):.0f} s" if delays else "n/a")))
    return rows


def correlation_bound() -> list[Row]:
    """Two venues of one asset (spot 5 ticks/s; perp 0.3 ticks/s, 0.5 s behind; each with
    its own 3e-5 price noise, so the true correlation is below 1): max |rho|, clip hits."""
    import random

    rng = random.Random(21)
    step, seconds, lag = 0.05, 3600.0, 0.5
    path = [0.0]
    for _ in range(int((seconds + lag) / step) + 2):
        path.append(path[-1] + rng.gauss(0.0, 1.2e-4 * math.sqrt(step)))
    ticks = []
    for symbol, rate, delay in (("SPOT", 5.0, 0.0), ("PERP", 0.3, lag)):
        t = 0.0
        while True:
            t += rng.expovariate(rate)
            if t >= seconds:
                break
            x = path[int(max(0.0, t - delay) / step)] + rng.gauss(0.0, 3e-5)
            ticks.append(Tick(symbol, "crypto", T0 + round(t, 6), 2600.0 * math.exp(x)))
    ticks.sort(key=lambda tick: tick.ts)

    def probe(engine: Engine) -> float | None:
        return pair_corr(engine, SymbolRef("crypto", "SPOT"), SymbolRef("crypto", "PERP"))

    r = run(ticks, probe)
    values = [v for t, v in r.probes.items() if v is not None and t >= 900]
    clipped = sum(abs(v) >= 1.0 for v in values)
    return [("correlation unbounded", "noisy two-venue pair, perp 0.5 s behind, 1 h (probes "
             "every 10 s after 15 min): max abs(rho) / values at exactly +-1 (clip) / any > 1",
             f"{max(map(abs, values)):.4f} / {clipped} of {len(values)} / "
             f"{'yes' if any(abs(v) > 1 for v in values) else 'no'}")]


SCENARIOS: dict[str, Callable[[], list[Row]]] = {
    "identity": identity, "bad_print": bad_print, "level_shift": level_shift,
    "extremes": extremes,
    "future": future_tick, "late": late_tick,
    "duplicates": binance_duplicates, "jumps": jumps, "stale": stale_reference,
    "regime": regime, "correlation": correlation_bound,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS),
                        help="Run only this scenario (repeatable).")
    parser.add_argument("--list", action="store_true", help="List the scenarios and exit.")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in SCENARIOS.items():
            print(f"{name}: {(fn.__doc__ or '').strip()}")
        return
    began = time.perf_counter()
    print("| failure mode | measurement | value | command |")
    print("|---|---|---|---|")
    timings = []
    for name in args.only or list(SCENARIOS):
        t0 = time.perf_counter()
        try:
            rows = SCENARIOS[name]()
        except Exception as exc:  # report and go on: one broken scenario is one row
            rows = [(name, "scenario failed", f"{type(exc).__name__}: {exc}")]
        timings.append(f"{name} {time.perf_counter() - t0:.1f} s")
        for mode, measure, value in rows:
            print(f"| {mode} | {measure} | {value} | `--only {name}` |", flush=True)
    print(f"\nruntime: {time.perf_counter() - began:.1f} s ({', '.join(timings)})")


if __name__ == "__main__":
    main()
