"""The dirty-data generator: each fault does exactly the dirt it names, deterministically."""

from __future__ import annotations

import functools
import itertools
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pulse.engine.tick import Tick
from pulse.feeds.faults import KINDS, FaultInjector, describe_kinds, parse_faults

T0 = 1_767_625_200.0
REPO = Path(__file__).resolve().parents[2]


def clean() -> list[Tick]:
    """Return 20 minutes of alternating BTC and ETH ticks every 0.5 s; prices 100 + i/1000."""
    return list(_clean())


def key(t: Tick) -> tuple:
    return (t.symbol, t.asset, t.ts, t.price, t.size, t.trade_id)


@functools.cache
def _clean(seconds: float = 1200.0, dt: float = 0.5, symbols=("BTC", "ETH")) -> tuple:
    out = []
    for i in range(int(seconds / dt)):
        symbol = symbols[i % len(symbols)]
        out.append(Tick(symbol, "crypto", T0 + i * dt + 0.1, 100.0 + i / 1000.0, size=1.0))
    return tuple(out)


def run(spec: str, ticks: list[Tick] | None = None) -> tuple[list[Tick], FaultInjector]:
    injector = FaultInjector([spec])
    return list(injector.apply(clean() if ticks is None else ticks)), injector


def of(ticks: list[Tick], symbol: str = "BTC") -> list[Tick]:
    return [t for t in ticks if t.symbol == symbol]


def test_no_faults_change_nothing():
    assert run("")[0] == clean()


@pytest.mark.parametrize(("spec", "price"), [
    ("bad_print:factor=10", lambda p: 10 * p), ("bad_print:factor=0.1", lambda p: 0.1 * p),
    ("bad_print:price=1e300", lambda p: 1e300), ("bad_print:price=1e-300", lambda p: 1e-300),
    ("bad_print:price=nan", lambda p: math.nan), ("bad_print:price=0", lambda p: 0.0),
    ("bad_print:price=-1", lambda p: -1.0),
])
def test_a_bad_print_is_one_extra_tick_that_is_the_last_of_its_cell(spec, price):
    out, injector = run(spec)
    base = of(clean())
    got = of(out)
    assert len(got) == len(base) + 1
    known = {key(t) for t in base}
    i = next(k for k, t in enumerate(got) if key(t) not in known)
    bad, before = got[i], got[i - 1]
    assert before.ts - T0 >= 600  # the first BTC tick at or after 600 s is hit
    want = price(before.price)
    assert bad.price == want or (math.isnan(want) and math.isnan(bad.price))
    # Same cell as the tick it follows, after every genuine tick of that cell.
    assert math.floor(bad.ts) == math.floor(before.ts)
    assert all(t.ts > bad.ts for t in got[i + 1:])
    assert all(math.floor(t.ts) != math.floor(bad.ts) for t in got[i + 1:])
    assert injector.injected == {spec: 1}


def test_a_bad_print_can_sit_inside_its_cell_and_repeat():
    out, _ = run("bad_print:factor=10:last=0:count=3:every=100:at=100")
    bad = [t for t in of(out) if t.price > 500]
    assert len(bad) == 3
    assert [round(b.ts - bad[0].ts) for b in bad] == [0, 100, 200]


def test_a_future_tick_is_stamped_ahead_of_its_receipt_time():
    out, _ = run("future:ahead=3500:symbol=ETH")
    future = [t for t in out if t.ts - t.recv_ts > 1]
    assert len(future) == 1 and future[0].symbol == "ETH"
    assert future[0].ts - future[0].recv_ts == pytest.approx(3500)


def test_a_blind_future_tick_has_no_receipt_time_to_compare_with():
    out, _ = run("future:ahead=1e300:blind=1")
    future = [t for t in out if t.ts > 1e299]
    assert len(future) == 1 and future[0].recv_ts == future[0].ts
    assert out.index(future[0]) == out.index(next(t for t in of(out) if t.ts - T0 >= 600)) + 1


def test_a_late_tick_arrives_behind_newer_ticks_with_its_old_price_and_time():
    out, _ = run("late:delay=1")
    btc = of(out)
    late = [i for i in range(1, len(btc)) if btc[i].ts < btc[i - 1].ts]
    assert len(late) == 1
    tick = btc[late[0]]
    assert btc[late[0] - 1].ts - tick.ts == pytest.approx(1.0)  # one BTC tick overtook it
    assert (tick.ts, tick.price) in {(t.ts, t.price) for t in clean()}  # as generated
    assert tick.recv_ts - tick.ts == pytest.approx(1.0)
    assert sorted(out, key=lambda t: t.recv_ts) == out  # delivered in receipt order
    assert len(out) == len(clean())


def test_duplicates_and_reused_ids():
    out, _ = run("ids,dup:count=2:every=10")
    btc = of(out)
    pairs = [(a, b) for a, b in itertools.pairwise(btc) if a == b]
    assert len(pairs) == 2 and all(a.trade_id is not None for a, _ in pairs)
    out, _ = run("ids,reuse_id")
    btc = of(out)
    repeats = [(a, b) for a, b in itertools.pairwise(btc) if a.trade_id == b.trade_id]
    assert len(repeats) == 1 and repeats[0][0].price != repeats[0][1].price
    assert all(t.trade_id is None for t in run("ids,strip_ids")[0])


def test_a_burst_adds_n_ticks_within_its_span():
    out, _ = run("burst:n=50:span=1")
    btc = of(out)
    assert len(btc) == len(of(clean())) + 50
    known = {key(t) for t in clean()}
    extra = [t for t in btc if key(t) not in known]
    assert extra[-1].ts - extra[0].ts < 1.0


def test_a_gap_silences_the_symbol_only():
    out, _ = run("gap:at=300:duration=600")
    start = clean()[0].recv_ts
    assert not [t for t in of(out) if 300 <= t.recv_ts - start < 900]
    assert len(of(out)) == len(of(clean())) - 600  # one BTC tick per second
    assert of(out, "ETH") == of(clean(), "ETH")


def test_a_jump_is_a_lasting_level_shift():
    out, _ = run("jump:pct=1.5:at=600")
    for a, b in zip(of(out), of(clean()), strict=True):
        expected = 1.015 if a.ts - T0 >= 600 else 1.0
        assert a.price == pytest.approx(b.price * expected)


def test_a_volatility_regime_scales_log_returns_then_keeps_the_level():
    out, _ = run("vol:factor=3:at=300:duration=300")
    got, base = of(out), of(clean())
    for i in range(1, len(got)):
        rel = got[i].ts - T0
        r_got = math.log(got[i].price / got[i - 1].price)
        r_base = math.log(base[i].price / base[i - 1].price)
        factor = 3.0 if 300 <= rel < 600 else 1.0
        assert r_got == pytest.approx(factor * r_base, rel=1e-6)


def test_clock_skew_shifts_exchange_time_but_not_receipt_time():
    out, _ = run("skew:offset=-5:at=100:duration=50")
    moved = [t for t in of(out) if t.ts != t.recv_ts]
    assert moved and all(t.recv_ts - t.ts == pytest.approx(5) for t in moved)
    assert all(100 <= t.recv_ts - T0 < 150.2 for t in moved)


def test_an_alias_makes_one_symbol_tick_as_two_instruments():
    out, _ = run("alias:asset=forex:scale=0.01:at=0")
    forex = [t for t in out if t.asset == "forex"]
    assert {t.symbol for t in forex} == {"BTC"}
    assert len(forex) == len(of(clean()))
    assert forex[0].price == pytest.approx(0.01 * of(clean())[0].price)


def test_rate_faults_are_deterministic_per_seed():
    a, _ = run("late:rate=0.05:seed=1:at=0")
    b, _ = run("late:rate=0.05:seed=1:at=0")
    c, _ = run("late:rate=0.05:seed=2:at=0")
    assert a == b != c


def test_every_symbol_with_star():
    out, _ = run("jump:pct=10:symbol=*:at=0")
    assert all(t.price > 109 for t in out)


@pytest.mark.parametrize(("text", "message"), [
    ("explode", "unknown fault"), ("bad_print:factor", "KEY=VALUE"),
    ("bad_print:colour=red", "unknown key"), ("bad_print:factor=ten", "not a float"),
    ("gap:duration=0", "duration must be positive"), ("jump:pct=-100", "pct"),
    ("alias:asset=bonds", "asset must be one of"), ("late:rate=2", "rate"),
    ("burst:n=0", "n >= 1"), ("bad_print:at=-5", "non-negative"),
])
def test_bad_specs_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_faults(text)


def test_specs_parse_comma_separated_and_print_back():
    specs = parse_faults("bad_print:factor=10, gap:at=900:duration=60")
    assert [str(s) for s in specs] == ["bad_print:factor=10", "gap:at=900:duration=60"]


def test_the_help_summary_names_every_kind_and_its_defaults():
    text = describe_kinds()
    assert all(kind in text for kind in KINDS)
    assert "bad_print(factor=10, price=X, last=1, cell=1)" in text
    assert "future(ahead=3500, blind=0)" in text


def test_the_generator_and_the_event_log_import_no_django():
    code = ("import sys, pulse.feeds.faults, pulse.ingest.event_log; "
            "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
