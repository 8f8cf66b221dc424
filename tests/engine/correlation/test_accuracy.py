"""Evidence tests: the default estimator on known correlations and on real Binance trades.

Synthetic: two Brownian log prices with a known correlation, observed at independent
Poisson times (0.2/s to 5/s). Real: the recorded BTCUSDT/ETHUSDT session beside the repo,
where raw-tick Hayashi-Yoshida collapses but 5-second grid returns do not.
(The 60-minute windows and lead-lag cases are in ``test_kernel.py``.)
"""

from __future__ import annotations

import gzip
import json
import math
import statistics

import pytest

from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.correlation.synthetic import correlated_ticks
from tests.conftest import SHARED_DATA as RECORDING

RHOS = (0.8, 0.5, 0.0, -0.6)
RATES = ((0.2, 0.2), (0.2, 5.0), (1.0, 1.0), (5.0, 5.0))
SEEDS = (101, 202)
DURATION = 7200.0
pytestmark = pytest.mark.slow  # ~10 s: 32 two-hour synthetic sessions and the recording


def estimate(ticks, method: str, **settings) -> float:
    cfg = CorrelationConfig(window=DURATION, max_window=DURATION, **settings)
    tracker = CorrelationTracker(cfg)
    for symbol, ts, price in ticks:
        tracker.observe(symbol, ts, price)
    out = tracker.matrix(["X", "Y"], ticks[-1][1] + 1.0, method=method)
    assert out["status"][0][1] == "ok", out["status"]
    return out["matrix"][0][1]


@pytest.fixture(scope="module")
def errors() -> dict[str, list[float]]:
    errs: dict[str, list[float]] = {"kernel": [], "grid_hy": [], "bucketed": [], "hy": []}
    for rho in RHOS:
        for rates in RATES:
            for seed in SEEDS:
                ticks = correlated_ticks(rho, *rates, DURATION, seed=seed)
                errs["kernel"].append(estimate(ticks, "kernel") - rho)
                errs["grid_hy"].append(estimate(ticks, "grid_hy") - rho)
                errs["hy"].append(estimate(ticks, "hy", raw_tick_capacity=80_000) - rho)
                errs["bucketed"].append(estimate(ticks, "bucketed", bucket_seconds=10.0) - rho)
    return errs


def rmse(errs: list[float]) -> float:
    return math.sqrt(statistics.fmean(e * e for e in errs))


def test_default_estimator_recovers_known_correlations_within_rmse_005(errors) -> None:
    assert rmse(errors["kernel"]) <= 0.05
    assert max(abs(e) for e in errors["kernel"]) < 0.15
    assert abs(statistics.fmean(errors["kernel"])) < 0.02  # no systematic bias


def test_grid_hy_is_as_accurate_on_clean_prices_but_unbounded(errors) -> None:
    # The previous default: fine on clean synthetic prices (see test_kernel.py for where
    # it overshoots).
    assert rmse(errors["grid_hy"]) <= 0.05


def test_raw_tick_hy_is_also_accurate_on_clean_synthetic_prices(errors) -> None:
    assert rmse(errors["hy"]) <= 0.05


def test_bucketed_method_is_measurably_worse_and_biased_toward_zero(errors) -> None:
    assert rmse(errors["bucketed"]) > 2 * rmse(errors["kernel"])
    assert rmse(errors["bucketed"]) - rmse(errors["kernel"]) > 0.05
    # Toward zero: on rho = 0.8 (the first block of cases) it underestimates on average.
    block = len(RATES) * len(SEEDS)
    assert statistics.fmean(errors["bucketed"][:block]) < -0.05


def read_trades(name: str) -> list[tuple[str, float, float]]:
    """Minimal reader: ``<recv_ns> {"stream":"x@trade","data":{"T":ms,"p":"..."}}`` lines."""
    out = []
    with gzip.open(RECORDING / f"{name}_20240808.gz", "rt") as lines:
        for line in lines:
            if '@trade"' in line:
                data = json.loads(line.split(" ", 1)[1])["data"]
                out.append((name, data["T"] / 1000.0, float(data["p"])))
    return out


def grid_correlation(trades: list[tuple[str, float, float]], step: float) -> float:
    """Pearson correlation of previous-tick log returns on a ``step``-second grid."""
    by = {s: [(t, math.log(p)) for s2, t, p in trades if s2 == s] for s in ("btcusdt",
                                                                              "ethusdt")}
    start = max(v[0][0] for v in by.values())
    end = min(v[-1][0] for v in by.values())
    grid = [(math.floor(start / step) + 1 + i) * step for i in range(int((end - start) // step))]
    series = {}
    for s, obs in by.items():
        j = 0
        values = []
        for g in grid:
            while j + 1 < len(obs) and obs[j + 1][0] <= g:
                j += 1
            values.append(obs[j][1])
        series[s] = [values[i] - values[i - 1] for i in range(1, len(values))]
    return statistics.correlation(series["btcusdt"], series["ethusdt"])


@pytest.fixture(scope="module")
def binance() -> tuple[CorrelationTracker, float, float]:
    trades = sorted(read_trades("btcusdt") + read_trades("ethusdt"), key=lambda t: t[1])
    tracker = CorrelationTracker(CorrelationConfig(raw_tick_capacity=20_000))
    for symbol, ts, price in trades:
        tracker.observe(symbol, ts, price)
    return tracker, trades[-1][1] + 1.0, grid_correlation(trades, 5.0)


@pytest.mark.shared_data
def test_recorded_btc_eth_default_estimate_is_within_005_of_5s_grid(binance) -> None:
    tracker, now, grid5 = binance
    assert 0.6 < grid5 < 0.9
    out = tracker.matrix(["btcusdt", "ethusdt"], now)  # default window 900 s covers it all
    assert out["method"] == "kernel"
    assert out["horizon"] == 10.0  # two liquid symbols
    assert abs(out["matrix"][0][1] - grid5) <= 0.05
    assert out["coverage"][0][1] > 250
    assert 0.0 < out["stderr"][0][1] < 0.1


@pytest.mark.shared_data
def test_recorded_btc_eth_raw_tick_hy_collapses(binance) -> None:
    tracker, now, grid5 = binance
    raw = tracker.matrix(["btcusdt", "ethusdt"], now, method="hy")["matrix"][0][1]
    assert 0.05 < raw < 0.3
    assert grid5 - raw > 0.4
