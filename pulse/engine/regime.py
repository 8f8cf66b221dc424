"""Volatility regime label with hysteresis and a minimum dwell time.

Every ``regime_every`` seconds of event time the log of the current realized vol is compared
with an EWMA of its own earlier samples (mean and variance); the z-score drives the label.
The sample is added to the EWMA only after being scored, so it is not its own baseline.
"""

from __future__ import annotations

import math

UNKNOWN = "unknown"
NORMAL = "normal"
HIGH_VOL = "high_vol"


class RegimeTracker:
    """Label ``unknown`` until enough samples, then ``normal`` / ``high_vol``.

    Enter ``high_vol`` when z >= enter_z, leave it when z <= exit_z; a change is only allowed
    once the current label has been held for ``min_dwell`` seconds.
    """

    __slots__ = ("alpha", "enter_z", "exit_z", "label", "mean", "min_dwell", "min_samples",
                 "n", "sd_floor", "since", "var", "z")

    def __init__(self, half_life_samples: float, min_samples: int, enter_z: float,
                 exit_z: float, sd_floor: float, min_dwell: float) -> None:
        self.alpha = 1.0 - math.exp(-math.log(2.0) / half_life_samples)
        self.min_samples = min_samples
        self.enter_z = enter_z
        self.exit_z = exit_z
        self.sd_floor = sd_floor
        self.min_dwell = min_dwell
        self.mean = 0.0
        self.var = 0.0
        self.n = 0
        self.label = UNKNOWN
        self.since = -math.inf  # event time of the last label change
        self.z: float | None = None

    def sample(self, vol: float, ts: float) -> str:
        """Score one clock sample of annualized vol taken at event time ``ts``; return the
        label. Non-positive vol (a flat market) is skipped: its log is undefined.
        """
        if not vol > 0.0:
            return self.label
        x = math.log(vol)
        if self.n >= self.min_samples:
            sd = math.sqrt(self.var)
            z = (x - self.mean) / (sd if sd > self.sd_floor else self.sd_floor)
            self.z = z
            label = self.label
            if label == UNKNOWN:
                self._switch(HIGH_VOL if z >= self.enter_z else NORMAL, ts)
            elif ts - self.since >= self.min_dwell:
                if label == NORMAL and z >= self.enter_z:
                    self._switch(HIGH_VOL, ts)
                elif label == HIGH_VOL and z <= self.exit_z:
                    self._switch(NORMAL, ts)
        if self.n == 0:
            self.mean = x
        else:
            # Incremental EWMA mean and variance (Finch 2009).
            d = x - self.mean
            self.mean += self.alpha * d
            self.var = (1.0 - self.alpha) * (self.var + self.alpha * d * d)
        self.n += 1
        return self.label

    def _switch(self, label: str, ts: float) -> None:
        self.label = label
        self.since = ts
