"""Shared check of the streaming trackers: an incrementally refreshed tracker must answer
exactly as a fresh one fed the same ticks up to the query time."""

from __future__ import annotations

from typing import Any

import pytest

from pulse.engine.correlation import CorrelationTracker


def assert_matches_fresh(rolling: CorrelationTracker, stream: list[tuple[str, float, float]],
                         symbols: list[str], t: float, *keys: str, **query: Any) -> None:
    """Compare ``rolling``'s matrix at ``t`` with a fresh tracker's on ``stream`` up to ``t``:
    equal ``status`` and the named ``keys``, values within 1e-9."""
    got = rolling.matrix(symbols, t, **query)
    fresh = CorrelationTracker(rolling.config)
    for s, ts, p in stream:
        if ts > t:
            break
        fresh.observe(s, ts, p)
    want = fresh.matrix(symbols, t, **query)
    for key in (*keys, "status"):
        assert got[key] == want[key]
    for row_got, row_want in zip(got["matrix"], want["matrix"], strict=True):
        assert row_got == pytest.approx(row_want, abs=1e-9)
