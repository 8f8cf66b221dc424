"""Property tests (hypothesis): no input sequence breaks the engine's promises.

For any sequence of ticks (random symbols and asset classes, prices including NaN, inf, 0,
negative, huge and tiny, timestamps out of order, repeated or far in the future, random
trade ids), ``on_tick`` never raises, every snapshot metric is finite or None, every event
is well-formed and finite, and correlation values lie in [-1, 1] (or are None).

Each example starts from an engine warmed on 15 minutes of clean data (so baselines,
regimes, events and correlations are live, not stuck in warm-up), then applies the drawn
sequence. Only public API is read, so the properties hold whatever the engine's internals.
"""

from __future__ import annotations

import copy
import functools
import math
import random
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pulse.engine import Engine, StressEvent, Tick

T0 = 1_767_625_200.0
WARM = 900.0  # seconds of clean warm-up
SYMBOLS = ("BTC", "ETH", "EURUSD")
ASSETS = ("crypto", "forex", "stocks")
SEVERITIES = {"warning", "critical"}
DIRECTIONS = {"up", "down"}

FAST = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@functools.cache
def _warm_engine() -> Engine:
    """Return an engine fed 15 minutes of two correlated clean walks and one forex pair."""
    rng = random.Random(0)
    engine = Engine()
    prices = {"BTC": 60_000.0, "ETH": 3_000.0, "EURUSD": 1.08}
    ts = T0
    while ts < T0 + WARM:
        ts += rng.expovariate(6.0)
        common = rng.gauss(0.0, 3e-4)
        symbol = rng.choice(SYMBOLS)
        prices[symbol] *= math.exp(common + rng.gauss(0.0, 2e-4))
        asset = "forex" if symbol == "EURUSD" else "crypto"
        engine.on_tick(Tick(symbol, asset, round(ts, 6), round(prices[symbol], 6),
                            size=rng.random()))
    return engine


def warm_engine() -> Engine:
    """Return a private copy of the warmed engine (each example mutates its own)."""
    return copy.deepcopy(_warm_engine())


PRICES = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e300, 1e-300, 5e-324,
                     1.7976931348623157e308, 1e-320]),
    st.floats(min_value=1e-12, max_value=1e12, allow_nan=False),
    st.sampled_from([60_000.0, 3_000.0, 1.08, 600_000.0, 6_000.0, 0.108]),  # near, x10, x0.1
)
# Steps between ticks: mostly small (repeated branches weigh them), sometimes backwards,
# across windows or wild. A step across a window costs a ring fill, so those stay rare.
_SMALL = st.floats(min_value=0.0, max_value=2.0)
STEPS = st.one_of(
    _SMALL, _SMALL, _SMALL, _SMALL,
    st.sampled_from([0.0, -0.5, -1.0, -3.0, -1e4, 30.0, 61.0, 301.0, 700.0, 3500.0, 4000.0,
                     1e9, 1e300, math.nan, math.inf]),
)
TRADE_IDS = st.one_of(st.none(), st.integers(min_value=0, max_value=20),
                      st.text(max_size=3))
TICKS = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(ASSETS), STEPS, PRICES, TRADE_IDS,
              st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6)),
              st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))),
    min_size=1, max_size=80,
)


def build(raw: list[tuple]) -> list[Tick]:
    """Turn drawn tuples into ticks, advancing a clock from the end of the warm-up.

    ``skew`` puts receipt time apart from exchange time (None: the same), ``size`` any float.
    """
    out = []
    clock = T0 + WARM
    for symbol, asset, step, price, trade_id, skew, size in raw:
        ts = clock + step
        if math.isfinite(ts) and abs(ts) < 1e12:
            clock = max(clock, ts) if step < 1e4 else clock  # wild steps do not move time on
        recv = None if skew is None else clock + skew
        out.append(Tick(symbol, asset, ts, price, recv_ts=recv, size=size, trade_id=trade_id))
    return out


def assert_snapshot_finite(snap: dict[str, Any]) -> None:
    for key, value in snap.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"snapshot {snap.get('symbol')}: {key}={value!r}"


def assert_event_well_formed(event: Any) -> None:
    assert isinstance(event, StressEvent)
    data = event.to_dict()
    orjson.dumps(data)  # JSON-ready
    assert data["severity"] in SEVERITIES and data["direction"] in DIRECTIONS
    # The symbol sent (an engine keyed by class may add its class, never lose the name).
    assert isinstance(data["symbol"], str) and any(s in data["symbol"] for s in SYMBOLS)
    for key in ("ts", "value", "threshold", "window", "price"):
        value = data[key]
        assert isinstance(value, int | float) and math.isfinite(value), f"event {key}={value!r}"
    for key in ("z", "ref_price", "ref_age"):
        assert data[key] is None or math.isfinite(data[key]), f"event {key}={data[key]!r}"
    assert data["price"] > 0
    assert data["ref_price"] is None or data["ref_price"] > 0
    assert isinstance(data["message"], str) and data["message"]
    for key, value in data.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"event {key}={value!r}"


def assert_correlation_bounded(engine: Engine) -> None:
    symbols = engine.correlation_symbols()
    if not symbols:
        return
    result = engine.correlation(symbols, base=symbols[0])
    for row in result["matrix"]:
        for value in row:
            assert value is None or (math.isfinite(value) and -1.0 <= value <= 1.0), value


# Found by these properties on the starting commit (issue 12): a denormal price, accepted as
# positive and finite, makes the next cell raise ValueError (math domain error); a 1e300 or
# 1e-300 level held for a few minutes makes the move levels overflow (OverflowError).
DENORMAL = [("BTC", "crypto", 1.0, 5e-324, None, None, None),
            ("BTC", "crypto", 1.0, 5e-324, None, None, None)]
HUGE_LEVEL = [("BTC", "crypto", 1.0, 1e300, None, None, float(i)) for i in range(1, 401)]
TINY_LEVEL = [("BTC", "crypto", 1.0, 1e-300, None, None, float(i)) for i in range(1, 401)]


@FAST
@given(TICKS)
@example(DENORMAL)
@example(HUGE_LEVEL)
@example(TINY_LEVEL)
def test_no_tick_sequence_raises_or_makes_a_metric_or_event_non_finite(raw):
    engine = warm_engine()
    ticks = build(raw)
    for i, tick in enumerate(ticks):
        events = engine.on_tick(tick)
        for event in events:
            assert_event_well_formed(event)
        if i % 10 == 0:
            for snap in engine.snapshots().values():
                assert_snapshot_finite(snap)
    for snap in engine.snapshots().values():
        assert_snapshot_finite(snap)
    stats = engine.stats()
    assert all(isinstance(n, int) and n >= 0 for n in stats["rejected"].values())
    assert_correlation_bounded(engine)


@FAST
@given(TICKS)
def test_an_accepted_tick_is_never_counted_twice_and_every_tick_is_accounted_for(raw):
    engine = warm_engine()
    before = engine.stats()
    ticks = build(raw)
    for tick in ticks:
        engine.on_tick(tick)
    after = engine.stats()
    accepted = after["accepted"] - before["accepted"]
    rejected = sum(after["rejected"].values()) - sum(before["rejected"].values())
    # A filter may hold a suspect tick until later ticks decide, so <= rather than ==.
    assert accepted >= 0 and rejected >= 0 and accepted + rejected <= len(ticks)


# Correlation of a lead-lag pair: B follows A's latent price ``lag`` seconds later, both
# sampled at Poisson times with their own small noise. The estimator must stay in [-1, 1]
# by construction: a value of exactly +-1 for two noisy, non-proportional series is a clip
# hiding an overshoot (issue 12, "Correlation is unbounded").
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), lag=st.sampled_from([0.0, 0.2, 0.5, 1.0, 1.5]),
       rate_a=st.sampled_from([0.5, 1.0, 5.0]), rate_b=st.sampled_from([0.5, 1.0, 5.0]),
       noise=st.sampled_from([0.0, 2e-5]))
@example(seed=1, lag=0.2, rate_a=1.0, rate_b=0.5, noise=2e-5)
def test_correlation_of_a_lead_lag_pair_is_inside_minus_one_one(seed, lag, rate_a, rate_b,
                                                                  noise):
    engine = Engine()
    for tick in lead_lag_pair(seed, lag, rate_a, rate_b, noise, seconds=400.0):
        engine.on_tick(tick)
    result = engine.correlation(["A", "B"], base="A")
    value, coverage = result["matrix"][0][1], result["coverage"][0][1]
    assert value is None or -1.0 <= value <= 1.0
    if value is not None and coverage >= 30:
        assert abs(value) < 1.0, f"|rho| == 1 on {coverage} returns: clipped overshoot"


def lead_lag_pair(seed: int, lag: float, rate_a: float, rate_b: float, noise: float,
                  seconds: float) -> list[Tick]:
    """Return ticks of A and B (B lags A's latent log price by ``lag`` s), time-ordered."""
    rng = random.Random(seed)
    step = 0.05
    path = [0.0]
    for _ in range(int((seconds + lag) / step) + 2):
        path.append(path[-1] + rng.gauss(0.0, 1e-4 * math.sqrt(step)))
    ticks = []
    for symbol, rate, delay in (("A", rate_a, 0.0), ("B", rate_b, lag)):
        t = 0.0
        while True:
            t += rng.expovariate(rate)
            if t >= seconds:
                break
            x = path[int(max(0.0, t - delay) / step)] + rng.gauss(0.0, noise)
            ticks.append(Tick(symbol, "crypto", T0 + round(t, 6), 100.0 * math.exp(x)))
    ticks.sort(key=lambda tick: tick.ts)
    return ticks
