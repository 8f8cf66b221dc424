"""CorrelationConfig: documented defaults, strict validation, mapping loader."""

from __future__ import annotations

import math

import pytest

from pulse.engine.correlation import METHODS, CorrelationConfig


def test_it_documents_sane_defaults() -> None:
    cfg = CorrelationConfig()
    assert cfg.method == "kernel" == METHODS[0]
    assert cfg.horizons == (10.0, 20.0, 30.0)
    assert cfg.interp_gap == 30.0
    assert cfg.window == 900.0
    assert cfg.grid_step == 1.0
    assert cfg.bucket_seconds == 10.0
    assert cfg.window <= cfg.max_window


def test_it_lists_every_method_once() -> None:
    assert set(METHODS) == {"kernel", "grid_hy", "grid", "bucketed", "hy"}
    assert len(METHODS) == len(set(METHODS))


def test_from_mapping_builds_a_config() -> None:
    cfg = CorrelationConfig.from_mapping({"method": "bucketed", "bucket_seconds": 30,
                                          "window": 600})
    assert (cfg.method, cfg.bucket_seconds, cfg.window) == ("bucketed", 30, 600)
    assert cfg.step_cells("bucketed") == 30


def test_from_mapping_names_the_unknown_key() -> None:
    with pytest.raises(ValueError, match="bucket_size"):
        CorrelationConfig.from_mapping({"bucket_size": 20})


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"method": "pearson"}, "method"),
        ({"window": 0}, "window"),
        ({"window": -5.0}, "window"),
        ({"window": math.nan}, "window"),
        ({"grid_step": math.inf}, "grid_step"),
        ({"window": "900"}, "window"),
        ({"window": True}, "window"),
        ({"window": 7200.0}, "window"),
        ({"bucket_seconds": 15.5}, "bucket_seconds"),
        ({"sample_step": 0.5}, "sample_step"),
        ({"min_overlap": 1}, "min_overlap"),
        ({"min_overlap": 30.0}, "min_overlap"),
        ({"raw_tick_capacity": -1}, "raw_tick_capacity"),
        ({"max_books": 0}, "max_books"),
        ({"method": "hy"}, "raw_tick_capacity"),
        ({"horizons": []}, "horizons"),
        ({"horizons": [20, 10]}, "horizons"),
        ({"horizons": [10, 10]}, "horizons"),
        ({"horizons": [0]}, "horizons"),
        ({"horizons": [2.5]}, "horizons"),
        ({"horizons": "10"}, "horizons"),
        ({"horizons": [2000]}, "max_window"),
        ({"interp_gap": 0}, "interp_gap"),
        ({"interp_gap": 1.5}, "interp_gap"),
    ],
)
def test_it_rejects_bad_values_naming_the_setting(values: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        CorrelationConfig.from_mapping(values)


def test_it_accepts_steps_that_are_float_multiples_of_the_grid() -> None:
    cfg = CorrelationConfig(grid_step=0.1, sample_step=0.5, bucket_seconds=20.0)
    assert cfg.step_cells("grid") == 5
    assert cfg.step_cells("bucketed") == 200
    assert cfg.step_cells("grid_hy") == 1


def test_kernel_settings_come_from_json_lists_and_convert_to_cells() -> None:
    cfg = CorrelationConfig.from_mapping({"horizons": [5, 15], "interp_gap": 20})
    assert cfg.horizons == (5, 15)
    assert cfg.horizon_cells() == (5, 15)
    assert cfg.gap_cells() == 20
    assert CorrelationConfig(grid_step=0.5).horizon_cells() == (20, 40, 60)


def test_hy_is_allowed_once_raw_ticks_are_kept() -> None:
    assert CorrelationConfig(method="hy", raw_tick_capacity=1000).method == "hy"
