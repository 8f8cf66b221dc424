"""The synthetic market: determinism, order, rates, volatility, correlation, hours, shocks."""

from __future__ import annotations

import itertools
import math
import os
import statistics
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pulse.engine.tick import CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import SymbolRef
from pulse.feeds.market_hours import us_stock_session
from pulse.feeds.synthetic import CLASS_MODELS, EXTENDED_HOURS_RATE, SyntheticMarket
from pulse.feeds.universe import DEFAULT_UNIVERSE, PROFILES, profile, start_price

T0 = 1_723_161_600.0  # Fri 2024-08-09 00:00 UTC (Thu 20:00 in New York)
NY = ZoneInfo("America/New_York")


def ny(text: str) -> float:
    """Return the epoch time of a New York wall-clock time such as '2024-08-09 09:30'."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).timestamp()


def market(**kwargs: object) -> SyntheticMarket:
    options: dict = {"seed": 7, "start_ts": T0, "stock_hours": "always"}
    options.update(kwargs)
    return SyntheticMarket(DEFAULT_UNIVERSE, **options)  # type: ignore[arg-type]


def as_rows(ticks: list[Tick]) -> list[tuple]:
    return [(t.symbol, t.asset, t.ts, t.price, t.bid, t.ask, t.size) for t in ticks]


def grid_log_returns(ticks: list[Tick], start: float, end: float, step: float
                     ) -> dict[str, list[float]]:
    """Return per-symbol log returns of previous-tick prices on a clock grid."""
    by_symbol: dict[str, list[Tick]] = {}
    for tick in ticks:
        by_symbol.setdefault(tick.symbol, []).append(tick)
    out = {}
    for symbol, series in by_symbol.items():
        prices, i, last = [], 0, series[0].price
        t = start
        while t <= end:
            while i < len(series) and series[i].ts <= t:
                last = series[i].price
                i += 1
            prices.append(last)
            t += step
        out[symbol] = [math.log(b / a) for a, b in itertools.pairwise(prices)]
    return out


@pytest.fixture(scope="module")
def day_without_jumps() -> list[Tick]:
    """One day of the default universe at a twentieth of the tick rate, diffusion only."""
    m = market(seed=11, rate_scale=0.05, jumps=0.0)
    return m.opening_ticks() + list(m.ticks_until(T0 + 86_400))


def test_it_gives_identical_ticks_for_the_same_seed_and_start():
    first = list(itertools.islice(market(seed=3).ticks_until(T0 + 3600), 5000))
    second = list(itertools.islice(market(seed=3).ticks_until(T0 + 3600), 5000))
    assert len(first) == 5000
    assert first == second


def test_it_gives_different_ticks_for_a_different_seed():
    first = as_rows(list(market(seed=3).ticks_until(T0 + 60)))
    second = as_rows(list(market(seed=4).ticks_until(T0 + 60)))
    assert first != second


def test_it_ignores_the_order_of_the_universe():
    forward = SyntheticMarket(DEFAULT_UNIVERSE, seed=1, start_ts=T0, stock_hours="always")
    backward = SyntheticMarket(reversed(DEFAULT_UNIVERSE), seed=1, start_ts=T0,
                               stock_hours="always")
    assert list(forward.ticks_until(T0 + 30)) == list(backward.ticks_until(T0 + 30))


def test_it_emits_ticks_in_non_decreasing_time_order_within_the_bound():
    ticks = list(market().ticks_until(T0 + 600))
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(ticks))
    assert ticks[0].ts > T0 and ticks[-1].ts <= T0 + 600
    assert {t.symbol for t in ticks} == {ref.symbol for ref in DEFAULT_UNIVERSE}


def test_it_continues_seamlessly_across_calls_and_after_stopping_early():
    whole = list(market().ticks_until(T0 + 120))
    m = market()
    head = list(itertools.islice(m.ticks_until(T0 + 120), 100))
    rest = list(m.ticks_until(T0 + 60)) + list(m.ticks_until(T0 + 120))
    assert head + rest == whole


def test_it_ticks_each_symbol_at_its_class_rate_times_activity():
    m = market(seed=5)
    ticks = list(m.ticks_until(T0 + 1800))
    counts = Counter(t.symbol for t in ticks)
    for ref in DEFAULT_UNIVERSE:
        expected = CLASS_MODELS[ref.asset].rate * PROFILES[ref].activity * 1800
        assert counts[ref.symbol] == pytest.approx(expected, rel=0.12), ref
    per_class = Counter(t.asset for t in ticks)
    n = Counter(ref.asset for ref in DEFAULT_UNIVERSE)
    assert 2.0 <= per_class[CRYPTO] / n[CRYPTO] / 1800 <= 6.0
    assert 1.0 <= per_class[FOREX] / n[FOREX] / 1800 <= 2.0
    assert 0.5 <= per_class[STOCKS] / n[STOCKS] / 1800 <= 3.0


@pytest.mark.slow
def test_it_scales_every_rate_with_rate_scale():
    normal = len(list(market(seed=5).ticks_until(T0 + 300)))
    tenfold = len(list(market(seed=5, rate_scale=10.0).ticks_until(T0 + 300)))
    assert tenfold == pytest.approx(10 * normal, rel=0.05)


@pytest.mark.slow
def test_its_realized_volatility_matches_the_profiles(day_without_jumps):
    returns = grid_log_returns(day_without_jumps, T0, T0 + 86_400, 300.0)
    for ref in DEFAULT_UNIVERSE:
        per_year = CLASS_MODELS[ref.asset].seconds_per_year / 300.0
        realized = math.sqrt(statistics.fmean(r * r for r in returns[ref.symbol]) * per_year)
        assert realized == pytest.approx(PROFILES[ref].annual_vol, rel=0.2), ref


def test_its_volatilities_are_in_realistic_annual_ranges():
    ranges = {STOCKS: (0.1, 0.8), FOREX: (0.04, 0.2), CRYPTO: (0.4, 1.2)}
    for ref in DEFAULT_UNIVERSE:
        low, high = ranges[ref.asset]
        assert low <= PROFILES[ref].annual_vol <= high, ref


def test_it_correlates_symbols_within_a_class_more_than_across(day_without_jumps):
    returns = grid_log_returns(day_without_jumps, T0, T0 + 86_400, 300.0)

    def corr(a: str, b: str) -> float:
        return statistics.correlation(returns[a], returns[b])

    assert corr("BTC-USD", "ETH-USD") > 0.55
    assert corr("SOL-USD", "DOGE-USD") > 0.55
    assert corr("AAPL", "MSFT") > 0.3
    assert corr("EURUSD", "GBPUSD") > 0.3
    # USD-based pairs load on the dollar factor with the opposite sign, as in real markets.
    assert corr("EURUSD", "USDCHF") < -0.2
    assert abs(corr("BTC-USD", "AAPL")) < 0.3
    assert abs(corr("ETH-USD", "GBPUSD")) < 0.3


def test_it_quotes_forex_with_bid_and_ask_around_a_mid_price():
    ticks = [t for t in market().ticks_until(T0 + 300) if t.asset == FOREX]
    assert ticks
    for t in ticks:
        assert t.bid is not None and t.ask is not None and t.size is None
        assert t.bid < t.ask
        assert t.price == pytest.approx((t.bid + t.ask) / 2, rel=1e-12, abs=0)
        assert (t.ask - t.bid) / t.price < 2e-4


def test_it_gives_stocks_and_crypto_positive_sizes_and_no_quotes():
    ticks = [t for t in market().ticks_until(T0 + 300) if t.asset != FOREX]
    assert ticks
    for t in ticks:
        assert t.bid is None and t.ask is None
        assert t.size is not None and t.size > 0
        assert t.price > 0
    stock_sizes = [t.size for t in ticks if t.asset == STOCKS]
    assert all(float(s).is_integer() for s in stock_sizes)


def test_it_reports_us_stock_sessions_in_new_york_time_across_dst():
    assert us_stock_session(ny("2024-08-08 09:30"))[0] == "regular"
    assert us_stock_session(ny("2024-08-08 09:29:59"))[0] == "extended"
    assert us_stock_session(ny("2024-08-08 15:59:59"))[0] == "regular"
    assert us_stock_session(ny("2024-08-08 16:00"))[0] == "extended"
    assert us_stock_session(ny("2024-08-08 20:00"))[0] == "closed"
    assert us_stock_session(ny("2024-08-08 03:59"))[0] == "closed"
    assert us_stock_session(ny("2024-08-10 12:00"))[0] == "closed"  # Saturday
    # Winter time: 09:30 EST is 14:30 UTC, not 13:30.
    assert us_stock_session(1_704_724_200.0)[0] == "regular"  # Mon 2024-01-08 14:30 UTC
    assert us_stock_session(1_704_724_140.0)[0] == "extended"  # 14:29 UTC
    assert us_stock_session(ny("2024-08-08 12:00")) == (
        "regular", ny("2024-08-08 09:30"), ny("2024-08-08 16:00"))


@pytest.mark.slow
def test_it_ticks_stocks_only_in_trading_hours_under_nyse():
    start = ny("2024-08-09 00:00")  # a Friday, then a whole weekend
    m = SyntheticMarket(DEFAULT_UNIVERSE, seed=2, start_ts=start, stock_hours="nyse",
                        rate_scale=0.02)
    ticks = list(m.ticks_until(start + 3 * 86_400))
    stocks = [t for t in ticks if t.asset == STOCKS]
    sessions = Counter(us_stock_session(t.ts)[0] for t in stocks)
    assert sessions["closed"] == 0
    regular_rate = sessions["regular"] / 6.5 / 3600
    extended_rate = sessions["extended"] / 9.5 / 3600
    assert extended_rate == pytest.approx(EXTENDED_HOURS_RATE * regular_rate, rel=0.2)
    assert max(t.ts for t in stocks) < ny("2024-08-09 20:00")
    weekend = [t for t in ticks if t.ts >= ny("2024-08-10 00:00")]
    assert weekend and all(t.asset != STOCKS for t in weekend)
    assert {t.asset for t in weekend} == {CRYPTO, FOREX}


def test_it_resumes_stocks_at_the_next_open_with_a_bounded_gap():
    start = ny("2024-08-09 19:00")  # Friday evening; next open Monday 04:00 (extended)
    m = SyntheticMarket([SymbolRef(STOCKS, "SPY")], seed=1, start_ts=start, stock_hours="nyse")
    before = [t for t in m.ticks_until(ny("2024-08-09 20:00"))]
    after = list(itertools.islice(m.ticks_until(math.inf), 1))
    assert before and after
    assert after[0].ts >= ny("2024-08-12 04:00")
    assert abs(math.log(after[0].price / before[-1].price)) < 0.03


def test_it_opens_with_one_tick_per_symbol_including_closed_stocks():
    saturday = ny("2024-08-10 12:00")
    m = SyntheticMarket(DEFAULT_UNIVERSE, seed=1, start_ts=saturday, stock_hours="nyse")
    opening = m.opening_ticks()
    assert sorted(t.symbol for t in opening) == sorted(r.symbol for r in DEFAULT_UNIVERSE)
    assert all(t.ts == saturday for t in opening)
    aapl = next(t for t in opening if t.symbol == "AAPL")
    assert aapl.price == start_price(SymbolRef(STOCKS, "AAPL"))


def test_its_opening_ticks_do_not_change_what_follows():
    plain = list(market(seed=9).ticks_until(T0 + 60))
    m = market(seed=9)
    m.opening_ticks()
    assert list(m.ticks_until(T0 + 60)) == plain


def test_it_applies_a_scripted_shock_at_the_given_time():
    m = market(seed=4, jumps=0.0)
    m.shock("BTC-USD", T0 + 60, -5.0)
    ticks = list(m.ticks_until(T0 + 120))
    btc = [t for t in ticks if t.symbol == "BTC-USD"]
    at = next(i for i, t in enumerate(btc) if t.ts == T0 + 60)
    move = btc[at].price / btc[at - 1].price - 1
    assert move == pytest.approx(-0.05, abs=0.003)
    assert all(t.ts <= b.ts for t, b in itertools.pairwise(ticks))
    # The shock adds a tick; it does not double the symbol's rate afterwards.
    assert len(btc) == pytest.approx(CLASS_MODELS[CRYPTO].rate * 2.0 * 120, rel=0.25)


def test_it_holds_a_shock_on_a_closed_stock_until_its_next_tick():
    saturday = ny("2024-08-10 12:00")
    m = SyntheticMarket([SymbolRef(STOCKS, "AAPL")], seed=1, start_ts=saturday,
                        stock_hours="nyse", jumps=0.0)
    m.shock("AAPL", saturday + 60, 10.0)
    first = next(m.ticks_until(math.inf))
    assert first.ts >= ny("2024-08-12 04:00")
    assert first.price / 225.0 - 1 == pytest.approx(0.10, abs=0.02)


def test_it_rejects_bad_shocks():
    m = market()
    with pytest.raises(KeyError):
        m.shock("NOPE", T0 + 1, 1.0)
    with pytest.raises(ValueError, match="above -100"):
        m.shock("BTC-USD", T0 + 1, -100.0)
    with pytest.raises(ValueError, match="above -100"):
        m.shock("BTC-USD", T0 + 1, math.nan)


@pytest.mark.slow
def test_its_jumps_make_large_one_minute_moves_that_diffusion_alone_does_not():
    def big_moves(jumps: float) -> int:
        m = market(seed=21, rate_scale=0.2, jumps=jumps)
        ticks = m.opening_ticks() + list(m.ticks_until(T0 + 4 * 3600))
        returns = grid_log_returns(ticks, T0, T0 + 4 * 3600, 60.0)
        count = 0
        for ref in DEFAULT_UNIVERSE:
            model = CLASS_MODELS[ref.asset]
            sigma = PROFILES[ref].annual_vol * math.sqrt(60 / model.seconds_per_year)
            count += sum(abs(r) > 4 * sigma for r in returns[ref.symbol])
        return count

    assert big_moves(0.0) <= 2
    assert big_moves(1.0) >= 40  # about 150 jump-minutes are expected in 4 hours


def test_it_starts_and_stops_symbols_and_resumes_a_removed_one_at_its_price():
    m = market(seed=1)
    btc = SymbolRef(CRYPTO, "BTC-USD")
    acme = SymbolRef(STOCKS, "ACME")
    list(m.ticks_until(T0 + 60))
    last = m.last_price(btc)
    m.remove(btc)
    m.add(acme)
    window = list(m.ticks_until(T0 + 120))
    assert "BTC-USD" not in {t.symbol for t in window}
    assert "ACME" in {t.symbol for t in window}
    assert btc not in m.symbols and acme in m.symbols
    m.add(btc)
    resumed = next(t for t in m.ticks_until(T0 + 180) if t.symbol == "BTC-USD")
    assert abs(math.log(resumed.price / last)) < 0.01


def test_it_rejects_bad_options():
    with pytest.raises(ValueError, match="stock_hours"):
        market(stock_hours="lse")
    with pytest.raises(ValueError, match="rate_scale"):
        market(rate_scale=0.0)
    with pytest.raises(ValueError, match="jumps"):
        market(jumps=-1.0)


def test_its_default_universe_spans_all_classes_with_plausible_prices():
    assert len(DEFAULT_UNIVERSE) >= 17
    assert len(set(DEFAULT_UNIVERSE)) == len(DEFAULT_UNIVERSE)
    assert {ref.asset for ref in DEFAULT_UNIVERSE} == {STOCKS, FOREX, CRYPTO}
    assert start_price(SymbolRef(CRYPTO, "BTC-USD")) > 10_000
    assert 0.5 < start_price(SymbolRef(FOREX, "EURUSD")) < 2


def test_it_generates_stable_plausible_profiles_for_unknown_symbols():
    acme = profile(SymbolRef(STOCKS, "ACME"))
    assert acme == profile(SymbolRef(STOCKS, "ACME"))
    assert 10 <= acme.price <= 500
    assert acme != profile(SymbolRef(STOCKS, "ACMF"))
    assert 100 <= profile(SymbolRef(FOREX, "EURJPY")).price <= 160
    assert 0.5 <= profile(SymbolRef(FOREX, "EURCHF")).price <= 2
    assert 0.01 <= profile(SymbolRef(CRYPTO, "NEW-USD")).price <= 1000


def test_its_modules_stay_free_of_django():
    code = ("import sys, pulse.feeds.synthetic, pulse.feeds.simulator, pulse.feeds.replay, "
            "pulse.feeds.universe; sys.exit('django' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, check=False,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0
