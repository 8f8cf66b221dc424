"""EngineConfig defaults, mapping construction and validation."""

from __future__ import annotations

import pytest

from pulse.engine import EngineConfig
from pulse.engine.config import horizon_label


def test_defaults_cover_the_documented_windows():
    cfg = EngineConfig()
    assert cfg.return_horizons == (60.0, 300.0, 900.0)
    assert cfg.vol_window == cfg.trend_window == 900.0
    assert cfg.annualization == {"crypto": 31_536_000.0, "stocks": 5_896_800.0,
                                 "forex": 22_464_000.0}
    assert cfg.threshold_mode == "sigma"
    assert cfg.out_of_order_tolerance == 2.0
    assert cfg.future_tolerance == 5.0  # seconds: feeds correct their clock offset first
    assert cfg.plausibility_k == 8.0


def test_from_mapping_rejects_an_unknown_key_by_name():
    with pytest.raises(ValueError, match="vol_windw"):
        EngineConfig.from_mapping({"vol_windw": 300})


def test_from_mapping_merges_per_class_tables_over_the_defaults():
    cfg = EngineConfig.from_mapping({"sigma_floor": {"forex": 0.05},
                                     "move_pct": {"stocks": {"move_5m": [1.5, 3.0]}},
                                     "cooldown": 60, "correlation": {"method": "x"}})
    assert cfg.sigma_floor == {"crypto": 0.20, "stocks": 0.08, "forex": 0.05}
    assert cfg.move_pct["stocks"] == {"move_1m": [0.5, 1.0], "move_5m": [1.5, 3.0]}
    assert cfg.cooldown == 60
    assert cfg.correlation == {"method": "x"}
    assert EngineConfig.from_mapping(None) == EngineConfig()
    cfg = EngineConfig.from_mapping({"plausibility_min_pct": {"forex": 0.5},
                                     "price_bounds": [1e-6, 1e6]})
    assert cfg.plausibility_min_pct == {"crypto": 1.0, "stocks": 1.0, "forex": 0.5}
    assert cfg.price_bounds == (1e-6, 1e6)


@pytest.mark.parametrize(("override", "message"), [
    ({"grid_step": 0}, "grid_step"),
    ({"vol_window": 90.5}, "vol_window"),
    ({"return_horizons": ()}, "return_horizons"),
    ({"threshold_mode": "magic"}, "threshold_mode"),
    ({"move_z_warning": 8.0}, "move_z"),
    ({"cooldown": -1}, "cooldown"),
    ({"vol_min_returns": 0}, "vol_min_returns"),
    ({"annualization": {"crypto": 0}}, "annualization"),
    ({"sigma_floor": {"bonds": 0.1}}, "unknown asset"),
    ({"threshold_mode": "percent", "move_pct": {"forex": {"move_1m": [0.3, 0.2]}}},
     "move_pct"),
    ({"vol_return_step": 1200}, "vol_return_step"),
    ({"robust_return_step": 120}, "robust_return_step"),
    ({"robust_clip": 0}, "robust_clip"),
    ({"episode_gap": 0}, "episode_gap"),
    ({"gap_fraction": -0.5}, "gap_fraction"),
    ({"regime_exit_z": 3.0}, "regime_exit_z"),
    ({"plausibility_k": 0}, "plausibility_k"),
    ({"plausibility_min_pct": {"forex": -1}}, "plausibility_min_pct"),
    ({"plausibility_prior_vol": {"bonds": 0.1}}, "unknown asset"),
    ({"plausibility_max_held": 2}, "plausibility_max_held"),
    ({"plausibility_confirm_ticks": 0}, "plausibility_confirm_ticks"),
    ({"price_bounds": (1.0, 0.5)}, "price_bounds"),
    ({"price_bounds": (0.0, 1e12)}, "price_bounds"),
    ({"ts_bounds": (0.0, float("inf"))}, "ts_bounds"),
    ({"clock_reset_ticks": 0}, "clock_reset_ticks"),
    ({"future_tolerance": 0}, "future_tolerance"),
    ({"time_leap": -1}, "time_leap"),
])
def test_it_rejects_invalid_settings_naming_them(override, message):
    with pytest.raises(ValueError, match=message):
        EngineConfig.from_mapping(override)


def test_horizon_labels_are_short_and_unambiguous():
    assert [horizon_label(s) for s in (30, 60, 300, 900, 3600, 7200, 90)] == [
        "30s", "1m", "5m", "15m", "1h", "2h", "90s"]
