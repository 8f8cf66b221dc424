"""Bad-print filter: hold a price far outside a symbol's recent level until later ticks decide.

A real-time version of Brownlees and Gallo's (2006) tick cleaning: in real time only the past
is known, so a *suspect* print (far from the last accepted price in units of the symbol's own
volatility) is held rather than applied. Later ticks decide:

- a tick back within the band of the old level rejects the held print(s) as ``outlier``;
- ticks beyond the band on the *same* side confirm a new level: ``confirm_ticks`` of them with
  a later timestamp than the suspect, or one at least ``confirm_seconds`` after it; then the
  held ticks are applied in order;
- a tick beyond the band on the *other* side overtakes the held print(s), which are rejected,
  and becomes the new suspect.

The band is ``max(k * sigma * sqrt(max(dt, 1 s)), min_pct)`` in log price, with ``sigma`` the
symbol's baseline volatility (log units per sqrt second) and ``dt`` the time since the last
accepted tick; until the baseline exists a per-class prior volatility stands in for it. The
hot path only compares the price with ``lo < p < hi``, a band for ``dt = 1 s`` around the
cell's first price: two multiplications once per grid cell, by factors recomputed from the
baseline once a minute (it has a one-hour half-life). Only ticks outside it pay for a log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pulse.engine.tick import Tick

_log = math.log
_exp = math.exp
_sqrt = math.sqrt

# One held tick: (ts, price, the tick itself for size and quotes).
Held = tuple[float, float, Tick]


class GuardRules:
    """Settings shared by every symbol's guard (one object per engine)."""

    __slots__ = ("confirm_seconds", "confirm_ticks", "k", "max_held", "min_log", "prior_sigma")

    def __init__(self, k: float, min_pct: Mapping[str, float], prior_vol: Mapping[str, float],
                 seconds_per_year: Mapping[str, float], confirm_ticks: int,
                 confirm_seconds: float, max_held: int) -> None:
        self.k = k
        # Percent bands as log widths, per asset class.
        self.min_log = {a: math.log1p(v / 100.0) for a, v in min_pct.items()}
        # Prior annualized vols as sigma per sqrt second.
        self.prior_sigma = {a: v / math.sqrt(seconds_per_year[a]) for a, v in prior_vol.items()}
        self.confirm_ticks = confirm_ticks
        self.confirm_seconds = confirm_seconds
        self.max_held = max_held


class PrintGuard:
    """One symbol's plausibility band and its held suspect ticks (at most ``max_held``).

    ``lo``/``hi`` is the fast-path band; while ticks are held it is closed (``hi = 0``) so
    that every tick takes the slow path and decides about them.
    """

    __slots__ = ("down", "held", "hi", "lo", "min_log", "ooo_from", "ooo_n", "ooo_ticks",
                 "prior_sigma", "rules", "side", "sigma", "up", "width_next")

    def __init__(self, rules: GuardRules, asset: str) -> None:
        self.rules = rules
        self.min_log = rules.min_log[asset]
        self.prior_sigma = rules.prior_sigma[asset]
        self.sigma = self.prior_sigma  # baseline (or prior) sigma, log units per sqrt second
        # Band factors for dt = 1 s (exp(-w), exp(w)) and the cell at which to recompute them.
        self.down = self.up = 1.0
        self.width_next = -1
        self.lo = self.hi = 0.0  # closed until the first cell
        self.held: list[Held] = []
        self.side = 0  # +1 / -1: the held suspects lie above / below the band
        # Consecutive out-of-order rejections (see Engine): count, first receipt time, and
        # the accepted-tick count they started at (an accepted tick ends the run).
        self.ooo_n = 0
        self.ooo_from = 0.0
        self.ooo_ticks = -1

    def rewidth(self, sigma: float | None, next_cell: int | float) -> None:
        """Take the baseline ``sigma`` (None: the class prior) and recompute the fast band's
        factors; the engine calls this again at ``next_cell``.
        """
        self.sigma = self.prior_sigma if sigma is None else sigma
        w = self.width(1.0)
        self.down = _exp(-w)
        self.up = _exp(w)
        self.width_next = next_cell

    def disable(self) -> None:
        """Open the fast band for good (filter switched off)."""
        self.down = 0.0
        self.up = math.inf
        self.width_next = math.inf
        self.lo = 0.0
        self.hi = math.inf

    def width(self, dt: float) -> float:
        """Return the band half-width in log price for a tick ``dt`` seconds after the last."""
        w = self.rules.k * self.sigma * (_sqrt(dt) if dt > 1.0 else 1.0)
        return w if w > self.min_log else self.min_log

    def side_of(self, price: float, ts: float, last: float, last_ts: float) -> int:
        """Return +1 / -1 if ``price`` is implausibly above / below ``last``, else 0."""
        r = _log(price / last)
        w = self.width(ts - last_ts)
        return 1 if r > w else -1 if r < -w else 0

    def hold(self, item: Held, side: int) -> None:
        """Start holding ``item`` as a new suspect on ``side``; close the fast band."""
        self.held = [item]
        self.side = side
        self.lo = self.hi = 0.0

    def confirmed(self) -> bool:
        """Return True if the held run confirms a new level (see the module docstring)."""
        held = self.held
        t0 = held[0][0]
        later = [item[0] for item in held[1:] if item[0] > t0]
        rules = self.rules
        return len(later) >= rules.confirm_ticks or (
            bool(later) and later[-1] - t0 >= rules.confirm_seconds)

    def release(self, price: float) -> list[Held]:
        """Return the held ticks and stop holding; reopen the fast band around ``price``."""
        held = self.held
        self.held = []
        self.side = 0
        self.lo = price * self.down
        self.hi = price * self.up
        return held
