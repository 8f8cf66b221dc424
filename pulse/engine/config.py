"""Engine settings: one dataclass with documented defaults, buildable from a plain mapping.

Every window is in seconds of event time and must be a whole number of grid cells, because the
engine keeps a 1-cell-resolution price grid and looks windows up by cell index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pulse.engine.tick import ASSET_CLASSES, CRYPTO, FOREX, STOCKS

SEVERITIES = ("warning", "critical")


def _annualization() -> dict[str, float]:
    # Seconds of trading per year: crypto trades 365x24h, US equities 252x6.5h, FX ~260x24h.
    return {CRYPTO: 31_536_000.0, STOCKS: 5_896_800.0, FOREX: 260 * 86_400.0}


def _sigma_floor() -> dict[str, float]:
    # Annualized vol below which the baseline is not trusted (a dead-calm baseline would turn
    # every tick into a many-sigma move).
    return {CRYPTO: 0.20, STOCKS: 0.08, FOREX: 0.03}


def _move_pct() -> dict[str, dict[str, list[float]]]:
    # Fixed-percent mode: [warning, critical] thresholds in percent, per class and event type.
    return {
        CRYPTO: {"move_1m": [1.0, 2.0], "move_5m": [2.0, 4.0]},
        STOCKS: {"move_1m": [0.5, 1.0], "move_5m": [1.0, 2.0]},
        FOREX: {"move_1m": [0.1, 0.2], "move_5m": [0.2, 0.4]},
    }


def _plausibility_min_pct() -> dict[str, float]:
    # Smallest band (percent) of the bad-print filter: ordinary ticks of calm symbols must
    # never be suspect, whatever their measured sigma.
    return {CRYPTO: 1.0, STOCKS: 1.0, FOREX: 0.3}


def _plausibility_prior_vol() -> dict[str, float]:
    # Annualized vol the bad-print filter assumes while a symbol has no baseline yet: on the
    # high side of each class, so that a new symbol's real moves (and gaps) pass.
    return {CRYPTO: 1.0, STOCKS: 0.5, FOREX: 0.15}


# Absolute sanity bounds: 1 ns-era dust tokens to BTC quoted in rupiah (~1e9) fit inside;
# denormals (1e-320), 1e300 and float max do not.
PRICE_BOUNDS = (1e-12, 1e12)
# Event time in epoch seconds: 2000-01-01 to 2100-01-01 (ms or ns stamps fall outside).
TS_BOUNDS = (946_684_800.0, 4_102_444_800.0)


def horizon_label(seconds: float) -> str:
    """Return a short label for a horizon: 60 -> "1m", 900 -> "15m", 3600 -> "1h", 30 -> "30s"."""
    s = round(seconds)
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


@dataclass
class EngineConfig:
    """Tunable parameters of the pulse engine; see README.md, "Metrics" for the meaning of each."""

    # Time grid: cell width in seconds.
    grid_step: float = 1.0
    # Return horizons shown in snapshots (keys ret_<label>, ref_age_<label>).
    return_horizons: tuple[float, ...] = (60.0, 300.0, 900.0)
    # Realized volatility: window, return length used on the grid, minimum number of returns.
    vol_window: float = 900.0
    vol_return_step: float = 60.0
    vol_min_returns: int = 60
    # Trend: OLS window and minimum number of grid points.
    trend_window: float = 900.0
    trend_min_points: int = 60
    # Tick rate window.
    rate_window: float = 60.0
    annualization: dict[str, float] = field(default_factory=_annualization)
    # Baseline variance for sigma thresholds: EWMA of jump-robust (MedRV) grid return terms
    # that ended baseline_lag seconds ago or earlier, so the current event windows never feed
    # their own baseline.
    baseline_half_life: float = 3600.0
    baseline_lag: float = 300.0
    baseline_min_samples: int = 300
    sigma_floor: dict[str, float] = field(default_factory=_sigma_floor)
    # Jump-robust statistics (baseline, vol spikes, regime) use MedRV terms of returns over
    # robust_return_step seconds, each winsorised at robust_clip baseline sigmas (of one
    # return), so that even two adjacent bad returns (a print and its reversal) move little.
    robust_return_step: float = 20.0
    robust_clip: float = 8.0
    # Stress events.
    threshold_mode: str = "sigma"  # or "percent"
    move_horizons: tuple[float, ...] = (60.0, 300.0)
    # Sigma thresholds. The return is watched continuously on a sliding window, which
    # crosses a level far more often than one fixed window would, hence 5 rather than 3-4.
    move_z_warning: float = 5.0
    move_z_critical: float = 7.0
    move_z_rearm: float = 2.0
    move_pct: dict[str, dict[str, list[float]]] = field(default_factory=_move_pct)
    pct_rearm_fraction: float = 0.5
    spike_window: float = 300.0
    spike_ratio_warning: float = 3.0
    spike_ratio_critical: float = 5.0
    spike_ratio_rearm: float = 2.0
    cooldown: float = 300.0
    # Episodes: an event within episode_gap seconds of the symbol's previous event continues
    # that event's episode (one card that escalates or updates) instead of opening one.
    episode_gap: float = 300.0
    # A move whose reference is older than (1 + gap_fraction) x its window spans a gap: it is
    # scored over its real span and flagged.
    gap_fraction: float = 0.5
    # Regime: z = ln(robust vol over spike_window / baseline vol) / sd, sd = the sampling
    # error of ln(vol) from n = spike_window / robust_return_step returns, sqrt(1 / (2 n)),
    # times regime_sd_factor (measured for the overlapping MedRV estimator, docs/signals.md).
    regime_every: float = 30.0
    regime_sd_factor: float = 0.9
    regime_enter_z: float = 3.0
    regime_exit_z: float = 1.0
    regime_min_dwell: float = 300.0
    # Input hygiene (README.md, "Input hygiene"; docs/input-hygiene.md).
    out_of_order_tolerance: float = 2.0
    # Largest accepted lead of exchange time over receipt time (ts - recv_ts); None = off.
    # Feeds subtract their measured clock offset first, so this only absorbs latency jitter.
    future_tolerance: float | None = 5.0
    duplicate_id_memory: int = 1024
    # Prices and event times outside these (lo, hi) bounds are rejected outright.
    price_bounds: tuple[float, float] = PRICE_BOUNDS
    ts_bounds: tuple[float, float] = TS_BOUNDS
    # Bad-print filter: a print beyond max(k * sigma * sqrt(max(dt, 1 s)), min_pct) of the
    # last accepted price is held until later ticks confirm or refute it; k None = off.
    plausibility_k: float | None = 8.0
    plausibility_min_pct: dict[str, float] = field(default_factory=_plausibility_min_pct)
    plausibility_prior_vol: dict[str, float] = field(default_factory=_plausibility_prior_vol)
    plausibility_confirm_ticks: int = 2
    plausibility_confirm_seconds: float = 2.0
    plausibility_max_held: int = 8
    # A tick more than this many seconds ahead of the engine's latest event time, without a
    # receipt time of its own, waits for the next tick to confirm the new time (a gap) or
    # refute it (bad_ts); None = off.
    time_leap: float | None = 60.0
    # A symbol whose ticks are all rejected as out of order (its last ts is bogus) restarts
    # after this many consecutive rejections spanning this many seconds of receipt time.
    clock_reset_ticks: int = 5
    clock_reset_seconds: float = 3.0
    # Correlation lookback (seconds) and the nested CorrelationConfig mapping.
    corr_window: float = 900.0
    # Lookback when the base symbol is high_vol. Equal to corr_window by default: a 300 s
    # window doubled the correlation's error (docs/correlation.md, "regime-shortened").
    corr_window_high_vol: float = 900.0
    corr_window_fixed: float | None = None
    correlation: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.return_horizons = tuple(float(h) for h in self.return_horizons)
        self.move_horizons = tuple(float(h) for h in self.move_horizons)
        if isinstance(self.price_bounds, list):
            self.price_bounds = tuple(self.price_bounds)
        if isinstance(self.ts_bounds, list):
            self.ts_bounds = tuple(self.ts_bounds)
        self.validate()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> EngineConfig:
        """Build a config from a plain dict (e.g. Django's PULSE_ENGINE setting).

        Unknown keys raise ValueError naming them. Per-class dicts (annualization,
        sigma_floor, move_pct) are merged over the defaults so one class can be overridden
        alone.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown engine setting(s): {', '.join(unknown)}")
        for name, factory in (("annualization", _annualization), ("sigma_floor", _sigma_floor),
                              ("plausibility_min_pct", _plausibility_min_pct),
                              ("plausibility_prior_vol", _plausibility_prior_vol)):
            if name in data:
                merged = factory()
                merged.update(data[name])
                data[name] = merged
        if "move_pct" in data:
            merged_pct = _move_pct()
            for asset, per_type in data["move_pct"].items():
                merged_pct.setdefault(asset, {}).update(per_type)
            data["move_pct"] = merged_pct
        return cls(**data)

    def cells(self, seconds: float, name: str) -> int:
        """Return ``seconds`` as a whole number of grid cells; raise ValueError otherwise."""
        n = seconds / self.grid_step
        rounded = round(n)
        if rounded < 1 or abs(n - rounded) > 1e-9 * max(1.0, n):
            raise ValueError(f"{name}={seconds!r} must be a positive multiple of "
                             f"grid_step={self.grid_step!r}")
        return rounded

    def validate(self) -> None:
        """Raise ValueError naming the first invalid setting."""
        if not (isinstance(self.grid_step, int | float) and 0 < self.grid_step < math.inf):
            raise ValueError(f"grid_step must be a positive number, got {self.grid_step!r}")
        if not self.return_horizons:
            raise ValueError("return_horizons must not be empty")
        for h in self.return_horizons:
            self.cells(h, "return_horizons")
        for h in self.move_horizons:
            self.cells(h, "move_horizons")
        for name in ("vol_window", "vol_return_step", "trend_window", "rate_window",
                     "baseline_lag", "spike_window", "regime_every"):
            self.cells(getattr(self, name), name)
        if self.cells(self.vol_return_step, "vol_return_step") > self.cells(
                self.vol_window, "vol_window"):
            raise ValueError("vol_return_step must not exceed vol_window")
        if 3 * self.cells(self.robust_return_step, "robust_return_step") > self.cells(
                self.spike_window, "spike_window"):
            # The jump-robust estimator needs three adjacent returns inside the window.
            raise ValueError("3 x robust_return_step must not exceed spike_window")
        for name in ("baseline_half_life", "cooldown", "corr_window", "corr_window_high_vol",
                     "regime_sd_factor", "robust_clip", "episode_gap"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        for name in ("regime_min_dwell", "out_of_order_tolerance", "gap_fraction",
                     "plausibility_confirm_seconds", "clock_reset_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < math.inf):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        for name in ("vol_min_returns", "trend_min_points", "baseline_min_samples",
                     "duplicate_id_memory", "plausibility_confirm_ticks",
                     "plausibility_max_held", "clock_reset_ticks"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.trend_min_points < 3:
            raise ValueError("trend_min_points must be at least 3")
        if self.threshold_mode not in ("sigma", "percent"):
            raise ValueError(f"threshold_mode must be 'sigma' or 'percent', "
                             f"got {self.threshold_mode!r}")
        if not 0 < self.move_z_rearm < self.move_z_warning < self.move_z_critical:
            raise ValueError("need 0 < move_z_rearm < move_z_warning < move_z_critical")
        if not 1 <= self.spike_ratio_rearm < self.spike_ratio_warning < self.spike_ratio_critical:
            raise ValueError("need 1 <= spike_ratio_rearm < spike_ratio_warning "
                             "< spike_ratio_critical")
        if not self.regime_exit_z < self.regime_enter_z:
            raise ValueError("regime_exit_z must be below regime_enter_z")
        if not 0 < self.pct_rearm_fraction < 1:
            raise ValueError("pct_rearm_fraction must be in (0, 1)")
        for name in ("annualization", "sigma_floor", "plausibility_min_pct",
                     "plausibility_prior_vol"):
            table = getattr(self, name)
            for asset in ASSET_CLASSES:
                value = table.get(asset)
                if not (isinstance(value, int | float) and 0 < value < math.inf):
                    raise ValueError(f"{name}[{asset!r}] must be a positive number")
            extra = set(table) - set(ASSET_CLASSES)
            if extra:
                raise ValueError(f"{name} has unknown asset class(es): {sorted(extra)}")
        # Percent thresholds are only needed (hence checked) in percent mode.
        for asset in ASSET_CLASSES if self.threshold_mode == "percent" else ():
            per_type = self.move_pct.get(asset, {})
            for h in self.move_horizons:
                kind = "move_" + horizon_label(h)
                pair = per_type.get(kind)
                if (not isinstance(pair, list | tuple) or len(pair) != 2
                        or not 0 < pair[0] < pair[1]):
                    raise ValueError(f"move_pct[{asset!r}][{kind!r}] must be "
                                     f"[warning, critical] percents with 0 < warning < critical")
        if self.future_tolerance is not None and not self.future_tolerance > 0:
            raise ValueError("future_tolerance must be positive or None")
        if self.plausibility_k is not None and not 0 < self.plausibility_k < math.inf:
            raise ValueError("plausibility_k must be a positive number or None")
        if self.plausibility_max_held <= self.plausibility_confirm_ticks:
            raise ValueError("plausibility_max_held must exceed plausibility_confirm_ticks")
        for name in ("price_bounds", "ts_bounds"):
            bounds = getattr(self, name)
            if (not isinstance(bounds, list | tuple) or len(bounds) != 2
                    or not all(isinstance(b, int | float) for b in bounds)
                    or not -math.inf < bounds[0] < bounds[1] < math.inf):
                raise ValueError(f"{name} must be a finite (low, high) pair with low < high")
        if self.price_bounds[0] <= 0:
            raise ValueError("price_bounds must be positive")
        if self.time_leap is not None and not (isinstance(self.time_leap, int | float)
                                               and 0 < self.time_leap < math.inf):
            raise ValueError("time_leap must be a positive number of seconds or None")
        if self.corr_window_fixed is not None and not self.corr_window_fixed > 0:
            raise ValueError("corr_window_fixed must be positive or None")
        if not isinstance(self.correlation, dict):
            raise ValueError("correlation must be a dict of CorrelationConfig settings")
