"""Everything the engine keeps about one symbol, and the work done at grid-cell boundaries.

The per-tick part (validation, last price, gate check) lives in the engine's hot loop; this
module does what changes at most once per grid cell: closing cells into the grid, updating
the rolling variance, trend, baseline and regime, scoring vol spikes and recomputing the
move-rule price levels. Snapshots are computed from this state on demand.

Everything that judges "unusual" (baseline, vol spikes, regime) uses the jump-robust MedRV
terms of the grid (winsorised against the baseline), so one jump or one print cannot inflate
the baseline or pass for sustained variance; ``vol_15m`` stays plain realized vol.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from typing import Any

from pulse.engine.config import EngineConfig, horizon_label
from pulse.engine.events import StressEvent
from pulse.engine.regime import UNKNOWN, RegimeTracker
from pulse.engine.stress import MoveRule, StressDetector
from pulse.engine.trend import GridTrend
from pulse.engine.volatility import EwmaVariance, GridVariance, annualize
from pulse.engine.windows import MEDRV_SCALE, PriceGrid

_log = math.log


def ring_cells(cfg: EngineConfig) -> int:
    """Return the ring size (cells) that covers every window the engine looks up."""
    cells = cfg.cells
    need = [cells(w, "return_horizons") + 2 for w in cfg.return_horizons]
    need += [cells(w, "move_horizons") + 2 for w in cfg.move_horizons]
    need += [cells(cfg.vol_window, "vol_window") + 1,
             cells(cfg.spike_window, "spike_window") + 1,
             cells(cfg.trend_window, "trend_window") + 1,
             cells(cfg.rate_window, "rate_window") + 1,
             cells(cfg.baseline_lag, "baseline_lag")
             + 3 * cells(cfg.robust_return_step, "robust_return_step") + 2,
             cells(cfg.regime_every, "regime_every") + 1]
    return max(need)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


class SymbolState:
    """Rolling state of one symbol; see README.md, "Metrics" for the definitions."""

    __slots__ = ("ask", "asset", "base_min", "baseline", "bid", "cell", "clip", "clip_sq",
                 "clipped", "detector", "first_ts", "floor_rate", "g", "grid", "h", "horizons",
                 "hr", "id_queue", "ids", "lag", "last", "last_size", "last_ts", "rate_cells",
                 "rate_window", "regime", "regime_every", "regime_next", "spike_var",
                 "spike_window", "symbol", "ticks", "trend", "vol", "year")

    def __init__(self, symbol: str, asset: str, cfg: EngineConfig) -> None:
        cells = cfg.cells
        self.symbol = symbol
        self.asset = asset
        self.g = g = float(cfg.grid_step)
        self.h = h = cells(cfg.vol_return_step, "vol_return_step")
        self.year = cfg.annualization[asset]
        floor = cfg.sigma_floor[asset]
        self.floor_rate = floor * floor / self.year  # variance per second
        self.last = 0.0
        self.last_ts = -math.inf
        self.last_size: float | None = None
        self.bid: float | None = None
        self.ask: float | None = None
        self.cell: int | None = None  # open (current) cell; cells before it are closed
        self.first_ts: float | None = None
        self.ticks = 0
        # Recent trade ids for duplicate detection: a set for lookup, a queue for eviction.
        self.ids: set[Any] = set()
        self.id_queue: deque[Any] = deque()
        self.hr = hr = cells(cfg.robust_return_step, "robust_return_step")
        self.grid = grid = PriceGrid(ring_cells(cfg), h, hr)
        self.vol = GridVariance(grid, cells(cfg.vol_window, "vol_window"), g,
                                cfg.vol_min_returns)
        self.spike_window = cfg.spike_window
        spike_cells = cells(cfg.spike_window, "spike_window")
        # Jump-robust (MedRV) short-window variance: vol spikes and the regime.
        self.spike_var = GridVariance(grid, spike_cells, g,
                                      min(cfg.vol_min_returns, spike_cells - 3 * hr + 1),
                                      robust=True)
        # Winsorisation of robust terms: cap = clip_sq x baseline variance rate, in ``medsq``
        # units (robust_clip baseline sigmas of one return); no cap until the baseline is ready.
        self.clip_sq = cfg.robust_clip ** 2 * hr * g / MEDRV_SCALE
        self.clip = math.inf
        self.clipped = 0
        self.trend = GridTrend(grid, cells(cfg.trend_window, "trend_window") + 1,
                               cfg.trend_min_points)
        self.baseline = EwmaVariance(cfg.baseline_half_life / g)
        self.base_min = cfg.baseline_min_samples
        self.lag = cells(cfg.baseline_lag, "baseline_lag")
        self.regime_every = cells(cfg.regime_every, "regime_every")
        self.regime = RegimeTracker(cfg.spike_window / cfg.robust_return_step,
                                    cfg.regime_sd_factor, cfg.regime_enter_z,
                                    cfg.regime_exit_z, cfg.regime_min_dwell)
        self.regime_next = 0
        self.rate_cells = cells(cfg.rate_window, "rate_window")
        self.rate_window = float(cfg.rate_window)
        self.horizons = [(horizon_label(w), cells(w, "return_horizons"))
                         for w in cfg.return_horizons]
        rules = [MoveRule(w, cells(w, "move_horizons"), horizon_label(w))
                 for w in cfg.move_horizons]
        self.detector = StressDetector(
            rules, sigma_mode=cfg.threshold_mode == "sigma", z_warn=cfg.move_z_warning,
            z_crit=cfg.move_z_critical, z_rearm=cfg.move_z_rearm, pct=cfg.move_pct[asset],
            pct_rearm=cfg.pct_rearm_fraction, spike_warn=cfg.spike_ratio_warning,
            spike_crit=cfg.spike_ratio_critical, spike_rearm=cfg.spike_ratio_rearm,
            cooldown=cfg.cooldown, episode_gap=cfg.episode_gap,
            gap_limit=1.0 + cfg.gap_fraction)

    # -- cell boundaries ---------------------------------------------------------------------

    def advance(self, c_new: int, ts: float) -> StressEvent | None:
        """Close every cell before ``c_new`` (the cell of an incoming tick at ``ts``) and
        update what depends on closed cells; return a ``vol_spike`` event if one fires.
        """
        c = self.cell
        if c is None:  # first tick
            self.cell = c_new
            self.first_ts = ts
            self.vol.start(c_new)
            self.spike_var.start(c_new)
            self.regime_next = c_new + self.regime_every
            return None
        grid = self.grid
        price = self.last
        close_ts = self.last_ts
        logp = _log(price)
        cum = self.ticks
        grid.put(c, price, close_ts, logp, cum)
        self._closed(c)
        start = c + 1
        jump_from = c_new - grid.size - max(self.h, 3 * self.hr)
        jumped = start < jump_from
        if jumped:
            # A gap longer than the ring: only the newest cells matter and all hold the same
            # close, so fill those and recompute the windows exactly.
            start = jump_from
        for k in range(start, c_new):
            grid.put(k, price, close_ts, logp, cum)
            if not jumped:
                self._closed(k)
        end = c_new - 1
        if jumped:
            self.vol.rolling.recompute(end)
            self.spike_var.rolling.recompute(end)
            self.trend.recompute(end)
            self.regime_next = max(self.regime_next, end + self.regime_every)
        self.cell = c_new
        return self._after_close(end, ts)

    def _closed(self, k: int) -> None:
        """Update the rolling estimators for newly closed cell ``k``."""
        grid = self.grid
        size = grid.size
        medsq = grid.medsq
        if medsq[k % size] > self.clip:
            medsq[k % size] = self.clip
            self.clipped += 1
        self.vol.rolling.push(k)
        self.spike_var.rolling.push(k)
        self.trend.push(k)
        h = self.hr
        b = k - self.lag
        first = grid.first
        # Baseline: the robust term of the three hr-cell returns ending lag cells ago, only if
        # ticks moved the latest of them (a closed market's flat grid must not decay the
        # baseline; right after an open, a median of flat returns adds a few zero terms).
        if b - 3 * h >= first:
            cum = grid.cum
            if cum[b % size] != cum[(b - h) % size]:
                self.baseline.update(medsq[b % size] * MEDRV_SCALE / (h * self.g))
        if k >= self.regime_next:
            self.regime_next = k + self.regime_every
            every = self.regime_every
            back = k - every
            active = (grid.cum[k % size] - grid.cum[back % size] if back >= first
                      else grid.cum[k % size])
            if active:
                short = self.spike_var.rate(k)
                base = self.base_rate()
                if short is not None and base is not None:
                    # Overlapping baseline samples: about one independent return per h.
                    n_base = self.baseline.effective_samples() / h
                    self.regime.sample(short, base, n_base, (k + 1) * self.g)

    def base_rate(self) -> float | None:
        """Return the baseline variance per second (floored), or None while warming up."""
        baseline = self.baseline
        if baseline.n < self.base_min:
            return None
        rate = baseline.value()
        floor = self.floor_rate
        return rate if rate is not None and rate > floor else floor

    def _ref(self, j: int) -> tuple[float, float] | None:
        grid = self.grid
        if not grid.has(j):
            return None
        i = j % grid.size
        return grid.close[i], grid.close_ts[i]

    def _after_close(self, end: int, ts: float) -> StressEvent | None:
        base = self.base_rate()
        if base is not None:
            self.clip = self.clip_sq * base
        c_now = end + 1
        det = self.detector
        # Reference closes of the move rules (inlined _ref: this runs once per cell).
        grid = self.grid
        size = grid.size
        oldest = max(grid.first, end - size + 1)
        close = grid.close
        close_ts = grid.close_ts
        refs = []
        for rule in det.rules:
            j = c_now - rule.cells - 1
            refs.append((close[j % size], close_ts[j % size]) if j >= oldest else None)
        det.refresh(refs, None if base is None else math.sqrt(base), self.last, c_now * self.g)
        spike = det.check_spike(self.spike_var.rate(end), base, self.year, ts,
                                self.spike_window, self.symbol, self.asset, self.regime.label,
                                self.last)
        if spike is not None:
            ref = self._ref(c_now - self.spike_var.rolling.m - self.spike_var.lead)
            if ref is not None:
                spike.ref_price = ref[0]
                spike.ref_age = ts - ref[1]
        return spike

    # -- reading -------------------------------------------------------------------------------

    def snapshot(self, now: float | None) -> dict[str, Any]:
        """Return the JSON-ready metrics of this symbol (see README.md, "Metrics")."""
        last = self.last
        last_ts = self.last_ts
        bid, ask = self.bid, self.ask
        snap: dict[str, Any] = {
            "symbol": self.symbol, "asset": self.asset, "last": last, "bid": bid, "ask": ask,
            "mid": (bid + ask) / 2.0 if bid is not None and ask is not None else None,
            "ts": last_ts,
        }
        c = self.cell
        end = c - 1
        for label, w in self.horizons:
            ref = self._ref(c - w - 1)
            snap["ret_" + label] = None if ref is None else last / ref[0] - 1.0
            snap["ref_age_" + label] = None if ref is None else last_ts - ref[1]
        snap["vol_15m"] = _finite(annualize(self.vol.rate(end), self.year))
        fit = self.trend.fit(end)
        if fit is None:
            snap["trend_15m"] = snap["trend_t"] = None
        else:
            slope, t = fit
            snap["trend_15m"] = _finite(slope / self.g * 3600.0 * 100.0)
            snap["trend_t"] = _finite(t)
        snap["regime"] = self.regime.label
        snap["regime_z"] = (_finite(self.regime.z) if self.regime.label != UNKNOWN else None)
        base = self.base_rate()
        snap["vol_baseline"] = _finite(annualize(base, self.year))
        for rule in self.detector.rules:
            z = None
            if rule.ref is not None and rule.scale:
                z = math.log(last / rule.ref) / rule.scale
            snap["z_" + rule.type[len("move_"):]] = _finite(z)
        snap["tick_rate"] = self.tick_count(c) / self.rate_window
        snap["staleness"] = None if now is None else max(0.0, now - last_ts)
        snap["ticks"] = self.ticks
        return snap

    def tick_count(self, c: int) -> int:
        """Return the accepted ticks in cells ``(c - rate_cells, c]`` (``c`` = open cell)."""
        grid = self.grid
        back = c - self.rate_cells
        if grid.first is None or back < grid.first:
            return self.ticks
        return self.ticks - grid.cum[back % grid.size]

    def memory_bytes(self) -> int:
        """Return an approximate size in bytes of this symbol's state."""
        size = self.grid.nbytes() + sys.getsizeof(self.ids) + sys.getsizeof(self.id_queue)
        size += 64 * len(self.ids)  # the id objects themselves, roughly
        # Fixed-size objects: this state, the grid, estimators, detector, rules and alarms.
        size += 2_500 + 400 * len(self.detector.rules)
        return size
