"""Engine options shared by ``runpulse`` and ``replay``: parse, validate, build the config."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--corr-window``, ``--corr-method`` and ``--engine-option`` to ``parser``."""
    parser.add_argument(
        "--corr-window", type=float, metavar="SECONDS",
        help="Fix the correlation lookback (default: regime-aware, see README Metrics).",
    )
    parser.add_argument(
        "--corr-method", metavar="NAME",
        help="Correlation estimator (see README Metrics for the list and the default).",
    )
    parser.add_argument(
        "--engine-option", action="append", default=[], metavar="KEY=VALUE",
        help="Override one engine setting (JSON value), e.g. --engine-option max_window=300. "
        "Repeatable; see README Metrics for the keys.",
    )


def _parse_engine_options(items: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--engine-option expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides[key.strip()] = value
    return overrides


def engine_config(options: dict[str, Any], config_cls: Any) -> Any:
    """Return the engine config from settings.PULSE_ENGINE plus command-line overrides."""
    from pulse.engine.correlation import METHODS

    window = options.get("corr_window")
    if window is not None and window <= 0:
        raise CommandError("--corr-window must be a positive number of seconds")
    method = options.get("corr_method")
    if method is not None and method not in METHODS:
        raise CommandError(f"--corr-method must be one of {', '.join(METHODS)}, got {method!r}")
    mapping = dict(settings.PULSE_ENGINE)
    mapping.update(_parse_engine_options(options.get("engine_option") or []))
    try:
        return config_cls.from_mapping(mapping)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"engine settings: {exc}") from None
