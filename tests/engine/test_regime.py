"""Regime label: unknown while warming up, hysteresis and minimum dwell time."""

from __future__ import annotations

import itertools

from pulse.engine.regime import HIGH_VOL, NORMAL, UNKNOWN, RegimeTracker


def tracker(**kw) -> RegimeTracker:
    args = {"half_life_samples": 60.0, "min_samples": 5, "enter_z": 2.0, "exit_z": 0.5,
            "sd_floor": 0.1, "min_dwell": 300.0}
    args.update(kw)
    return RegimeTracker(**args)


def test_it_stays_unknown_until_enough_samples():
    reg = tracker()
    labels = [reg.sample(0.5, 60.0 * i) for i in range(6)]
    assert labels == [UNKNOWN] * 5 + [NORMAL]


def test_it_enters_high_vol_on_a_vol_jump_and_leaves_it_with_hysteresis():
    reg = tracker(min_dwell=0.0)
    for i in range(30):
        reg.sample(0.5, 60.0 * i)
    assert reg.sample(1.0, 1800.0) == HIGH_VOL  # log(2) / 0.1 floor = z ~ 6.9
    # Slightly elevated vol: above the exit level, so the label holds (hysteresis).
    assert reg.sample(0.56, 1860.0) == HIGH_VOL
    assert reg.z is not None and reg.z > 0.5
    for i in range(40):
        label = reg.sample(0.5, 1920.0 + 60 * i)
    assert label == NORMAL


def test_it_does_not_flap_faster_than_the_minimum_dwell():
    reg = tracker(min_dwell=600.0)
    for i in range(30):
        reg.sample(0.5, 60.0 * i)
    changes = []
    last = reg.label
    for i in range(60):  # alternate calm and wild samples every minute
        label = reg.sample(2.0 if i % 2 else 0.5, 1800.0 + 60 * i)
        if label != last:
            changes.append(1800.0 + 60 * i)
            last = label
    assert changes
    assert all(b - a >= 600.0 for a, b in itertools.pairwise(changes))


def test_it_ignores_a_flat_market_sample():
    reg = tracker()
    assert reg.sample(0.0, 0.0) == UNKNOWN
    assert reg.n == 0
