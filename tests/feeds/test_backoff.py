"""Reconnect back-off: bounds, full jitter, cap and reset after a stable period."""

from __future__ import annotations

import random

import pytest

from pulse.feeds.backoff import Backoff
from pulse.feeds.base import FeedConfigError
from pulse.feeds.connection import ConnectionOptions
from pulse.feeds.sequence import SequenceTracker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_ceiling_doubles_per_attempt_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=5.0, floor=0.0, rng=lambda: 1.0, clock=FakeClock())
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_full_jitter_spans_floor_to_ceiling_with_the_injected_rng() -> None:
    draws = iter([0.0, 0.5, 0.999])
    backoff = Backoff(base=2.0, cap=100.0, floor=0.1, rng=lambda: next(draws), clock=FakeClock())
    assert backoff.next_delay() == 0.1  # attempt 0: ceiling 2, lowest draw gives the floor
    assert backoff.next_delay() == pytest.approx(0.1 + 0.5 * 3.9)  # attempt 1: ceiling 4
    assert backoff.next_delay() == pytest.approx(0.1 + 0.999 * 7.9)  # attempt 2: ceiling 8


def test_random_delays_stay_within_bounds_and_are_spread() -> None:
    rng = random.Random(7)
    backoff = Backoff(base=1.0, cap=30.0, floor=0.05, rng=rng.random, clock=FakeClock())
    delays = []
    for _ in range(200):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0.05 <= delay <= ceiling <= 30.0
        delays.append(delay)
    capped = delays[10:]
    assert min(capped) < 5.0 and max(capped) > 25.0  # jitter, not a fixed cap


def test_it_survives_a_very_long_outage_without_overflow() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rng=lambda: 1.0, clock=FakeClock())
    for _ in range(5000):
        backoff.next_delay()
    assert backoff.next_delay() == 60.0


def test_it_resets_only_after_a_connection_stayed_up_for_the_stable_period() -> None:
    clock = FakeClock()
    backoff = Backoff(base=1.0, cap=60.0, floor=0.0, stable_after=30.0, rng=lambda: 1.0,
                      clock=clock)
    for _ in range(4):
        backoff.next_delay()
    backoff.note_connected()
    clock.now += 5.0  # dropped after 5 s: still flapping, keep growing
    assert backoff.next_delay() == 16.0
    backoff.note_connected()
    clock.now += 30.0  # stayed up 30 s: start over
    assert backoff.next_delay() == 1.0
    assert backoff.next_delay() == 2.0


def test_it_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        Backoff(base=0.0)
    with pytest.raises(ValueError, match="cap"):
        Backoff(base=10.0, cap=1.0)
    with pytest.raises(ValueError, match="negative"):
        Backoff(floor=-1.0)


def test_connection_options_build_a_backoff_and_validate_values() -> None:
    opts = ConnectionOptions.from_options({"backoff_base": 0.2, "backoff_cap": 3.0,
                                           "unrelated": 1})
    backoff = opts.backoff(rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.0,
                                                                      3.0])
    with pytest.raises(FeedConfigError, match="open_timeout"):
        ConnectionOptions.from_options({"open_timeout": -1})


def test_sequence_tracker_classifies_in_order_duplicate_and_gap() -> None:
    tracker = SequenceTracker()
    assert [tracker.check("A", n) for n in (5, 6, 6, 4, 9)] == [0, 0, -1, -1, 2]
    assert tracker.check("B", 1) == 0  # keys are independent
    tracker.forget("A")
    assert tracker.check("A", 100) == 0  # a re-subscribe does not count the pause as a gap
