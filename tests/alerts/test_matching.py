"""Rule matching, quiet hours, pause/expiry and firing decisions (pure, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from pulse.alerts.firing import COOLDOWN, DISARMED, FIRE, THROTTLED, FiringState
from pulse.alerts.matching import RuleSpec, event_matches, in_quiet_hours, is_active

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC).timestamp()


def event(**kw) -> dict:
    base = {"id": "BTC-USD|move_1m|down|1.0", "symbol": "BTC-USD", "asset": "crypto",
            "type": "move_1m", "direction": "down", "severity": "warning", "ts": 1.0,
            "value": -0.012, "z": -5.5}
    return {**base, **kw}


SPEC = RuleSpec(id=1, owner_id=10, name="btc", symbols=frozenset({"BTC-USD"}))


def test_scope_by_symbol_watchlist_symbols_and_asset_class():
    assert event_matches(SPEC, event())
    assert not event_matches(SPEC, event(symbol="ETH-USD"))
    by_class = RuleSpec(id=2, owner_id=10, name="fx", asset_class="forex")
    assert not event_matches(by_class, event())
    assert event_matches(by_class, event(symbol="EURUSD", asset="forex"))
    empty_watchlist = replace(SPEC, symbols=frozenset())
    assert not event_matches(empty_watchlist, event())


def test_condition_on_types_severity_and_own_thresholds():
    assert not event_matches(replace(SPEC, event_types=frozenset({"vol_spike"})), event())
    assert not event_matches(replace(SPEC, min_severity="critical"), event())
    assert event_matches(replace(SPEC, min_severity="critical"), event(severity="critical"))
    assert event_matches(replace(SPEC, min_abs_value=0.01), event())
    assert not event_matches(replace(SPEC, min_abs_value=0.02), event())
    assert event_matches(replace(SPEC, min_abs_z=5.0), event())
    assert not event_matches(replace(SPEC, min_abs_z=6.0), event())
    # Bad or missing numbers never pass a threshold.
    for bad in (None, "big", float("nan"), True):
        assert not event_matches(replace(SPEC, min_abs_z=1.0), event(z=bad))
    assert not event_matches(SPEC, event(severity="bogus"))


def test_quiet_hours_in_the_users_time_zone_including_across_midnight():
    night = replace(SPEC, quiet_start=time(22), quiet_end=time(7), timezone="Europe/Paris")
    assert not in_quiet_hours(night, NOON)  # 13:00 in Paris
    assert in_quiet_hours(night, datetime(2026, 1, 5, 21, 30, tzinfo=UTC).timestamp())
    assert in_quiet_hours(night, datetime(2026, 1, 6, 5, 59, tzinfo=UTC).timestamp())
    assert not in_quiet_hours(night, datetime(2026, 1, 6, 6, 0, tzinfo=UTC).timestamp())
    lunch = replace(SPEC, quiet_start=time(12), quiet_end=time(13), timezone="Not/AZone")
    assert in_quiet_hours(lunch, NOON)  # unknown zone read as UTC
    assert not is_active(lunch, NOON)


def test_paused_expired_and_disarmed_rules_are_inactive():
    assert is_active(SPEC, NOON)
    assert not is_active(replace(SPEC, paused=True), NOON)
    assert not is_active(replace(SPEC, expires_at=NOON), NOON)
    assert is_active(replace(SPEC, expires_at=NOON + 1), NOON)
    assert not is_active(replace(SPEC, mode="once", armed=False), NOON)


def test_every_mode_cools_down_per_symbol_by_event_time():
    state = FiringState()
    spec = replace(SPEC, symbols=None, cooldown=300)
    assert state.decide(spec, event(ts=1000.0), NOON) == FIRE
    assert state.decide(spec, event(ts=1299.0), NOON) == COOLDOWN
    assert state.decide(spec, event(ts=1299.0, symbol="ETH-USD"), NOON) == FIRE
    assert state.decide(spec, event(ts=1300.0), NOON) == FIRE


def test_one_shock_alerts_once_and_again_only_when_it_escalates():
    state = FiringState()
    first = "BTC-USD|move_1m|down|1.0"
    assert state.decide(SPEC, event(ts=1.0, episode=first), NOON) == FIRE
    # Follow-up cards of the same shock at the same severity stay quiet (cooldown) ...
    follow = event(id="BTC-USD|vol_spike|up|30.0", type="vol_spike", ts=30.0, episode=first,
                   episode_seq=1)
    assert state.decide(SPEC, follow, NOON) == COOLDOWN
    # ... an escalation of that shock to critical alerts at once, and only once ...
    crit = event(ts=60.0, severity="critical", episode=first, episode_seq=2)
    assert state.decide(SPEC, crit, NOON) == FIRE
    assert state.decide(SPEC, event(ts=90.0, severity="critical", episode=first,
                                    episode_seq=3), NOON) == COOLDOWN
    # ... and a critical event of another episode inside the cooldown does not bypass it.
    other = event(ts=100.0, severity="critical", episode="BTC-USD|move_5m|up|100.0")
    assert state.decide(replace(SPEC, id=2), event(ts=1.0, episode=first), NOON) == FIRE
    assert state.decide(replace(SPEC, id=2), other, NOON) == COOLDOWN


def test_once_mode_fires_once_until_re_armed():
    state = FiringState()
    spec = replace(SPEC, mode="once")
    assert state.decide(spec, event(ts=1.0), NOON) == FIRE
    assert state.decide(spec, event(ts=9999.0), NOON) == DISARMED
    state.rearmed(spec.id)
    assert state.decide(spec, event(ts=10_000.0), NOON) == FIRE


def test_a_runaway_rule_is_throttled_to_n_per_minute_then_recovers():
    state = FiringState()
    spec = replace(SPEC, cooldown=0.0, max_per_minute=3)
    decisions = [state.decide(spec, event(ts=float(i)), NOON + i) for i in range(5)]
    assert decisions == [FIRE, FIRE, FIRE, THROTTLED, THROTTLED]
    assert state.decide(spec, event(ts=100.0), NOON + 60) == FIRE
    saved = state.copy()
    state.decide(spec, event(ts=200.0), NOON + 61)
    assert list(saved.recent[spec.id]) != list(state.recent[spec.id])  # copies are independent
