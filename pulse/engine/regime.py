"""Volatility regime label: the robust short-window vol against the robust baseline, in units
of the short window's own sampling error, with hysteresis and a minimum dwell time.

The statistic is ``z = ln(vol_short / vol_baseline) / sd`` where ``sd`` is the standard error
of that log ratio on constant volatility: ``sqrt(1 / (2 n))`` for ``n`` independent returns in
the short window, combined with the same term for the baseline's effective number of returns
(large once warm, dominant right after warm-up, so early noise cannot pass for a regime), times
a measured efficiency factor; see docs/signals.md. Comparing against the baseline
instead of an EWMA of the label's own highly autocorrelated samples keeps the z-score on the
scale of real sampling noise, so a threshold of a few ``sd`` means what it says.
"""

from __future__ import annotations

import math

UNKNOWN = "unknown"
NORMAL = "normal"
HIGH_VOL = "high_vol"


class RegimeTracker:
    """Label ``unknown`` until the statistics are ready, then ``normal`` / ``high_vol``.

    Enter ``high_vol`` when z >= enter_z, leave it when z <= exit_z; a change is only allowed
    once the current label has been held for ``min_dwell`` seconds.
    """

    __slots__ = ("bias", "enter_z", "exit_z", "label", "min_dwell", "n_short", "sd", "since",
                 "z")

    def __init__(self, n_short: float, sd_factor: float, enter_z: float, exit_z: float,
                 min_dwell: float) -> None:
        self.n_short = n_short  # independent returns in the short window
        self.sd = sd_factor * math.sqrt(0.5 / n_short)  # sd of ln(vol_short), constant vol
        self.bias = 0.5 / n_short  # minus the bias of ln(vol_short)
        self.enter_z = enter_z
        self.exit_z = exit_z
        self.min_dwell = min_dwell
        self.label = UNKNOWN
        self.since = -math.inf  # event time of the last label change
        self.z: float | None = None

    def sample(self, short_rate: float, base_rate: float, base_returns: float,
               ts: float) -> str:
        """Score one clock sample: ``short_rate`` and ``base_rate`` are variance rates (per
        second) of the short window and the baseline, ``base_returns`` the baseline's
        effective number of independent returns, taken at event time ``ts``; return the
        label. A non-positive rate (a flat market) is skipped: its log is undefined.
        """
        if not (short_rate > 0.0 and base_rate > 0.0 and base_returns > 0.0):
            return self.label
        sd = self.sd
        sd = math.sqrt(sd * sd * (1.0 + self.n_short / base_returns))
        # ln of a variance estimate from n returns is biased by about -1/n: add it back so
        # that z is centred on constant volatility.
        z = (0.5 * math.log(short_rate / base_rate) + self.bias) / sd
        self.z = z
        label = self.label
        if label == UNKNOWN:
            self._switch(HIGH_VOL if z >= self.enter_z else NORMAL, ts)
        elif ts - self.since >= self.min_dwell:
            if label == NORMAL and z >= self.enter_z:
                self._switch(HIGH_VOL, ts)
            elif label == HIGH_VOL and z <= self.exit_z:
                self._switch(NORMAL, ts)
        return self.label

    def _switch(self, label: str, ts: float) -> None:
        self.label = label
        self.since = ts
