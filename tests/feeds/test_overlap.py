"""OverlapDedupe: id-less ticks are deduped only against a reconnect's overlap."""

from __future__ import annotations

from pulse.engine.tick import STOCKS, Tick
from pulse.feeds.overlap import OverlapDedupe

T0 = 1_767_625_200.0


def trade(ts: float, recv: float, price: float = 190.5, size: float = 100.0) -> Tick:
    return Tick("AAPL", STOCKS, ts, price, recv_ts=recv, size=size)


def test_genuine_identical_trades_in_normal_flow_are_all_kept() -> None:
    dedupe = OverlapDedupe(window=10.0)
    assert all(dedupe.admit(trade(T0, T0 + 0.1)) for _ in range(5))


def test_after_a_reconnect_only_the_resent_copies_are_dropped_each_at_most_once() -> None:
    dedupe = OverlapDedupe(window=10.0)
    before = [trade(T0 + i, T0 + i + 0.1, price=190.0 + i) for i in range(20)]
    before.append(trade(T0 + 19, T0 + 19.1, price=209.0))  # two identical genuine trades
    assert all(dedupe.admit(t) for t in before)
    dedupe.reconnected(T0 + 25)
    # The server re-sends its last 5 s; one more identical trade at T0+19 was genuinely new.
    resent = [trade(T0 + i, T0 + 25.2, price=190.0 + i) for i in range(15, 20)]
    resent += [trade(T0 + 19, T0 + 25.2, price=209.0)] * 2
    kept = [dedupe.admit(t) for t in resent]
    assert kept == [False] * 6 + [True]
    assert dedupe.admit(trade(T0 + 26, T0 + 26.1))


def test_only_the_last_window_before_the_disconnect_is_remembered() -> None:
    dedupe = OverlapDedupe(window=10.0)
    for i in range(30):
        dedupe.admit(trade(T0 + i, T0 + i + 0.1, price=100.0 + i))
    dedupe.reconnected(T0 + 31)
    assert dedupe.admit(trade(T0 + 5, T0 + 31.1, price=105.0))  # 25 s before: not in window
    assert not dedupe.admit(trade(T0 + 25, T0 + 31.1, price=125.0))


def test_copies_arriving_after_the_overlap_window_are_not_deduped() -> None:
    dedupe = OverlapDedupe(window=10.0)
    dedupe.admit(trade(T0, T0 + 0.1))
    dedupe.reconnected(T0 + 1)
    assert dedupe.admit(trade(T0, T0 + 11.5))
    assert not dedupe.checking


def test_a_zero_window_never_dedupes() -> None:
    dedupe = OverlapDedupe(window=0.0)
    dedupe.admit(trade(T0, T0 + 0.1))
    dedupe.reconnected(T0 + 1)
    assert dedupe.admit(trade(T0, T0 + 1.1))
