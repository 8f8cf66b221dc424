"""The machine-readable run summary written by ``runpulse --summary`` and ``replay --summary``.

Top-level keys are a stable contract (README, "Summary JSON"): ``ticks``, ``seconds``,
``ticks_per_second``, ``symbols``, ``feeds``, ``events`` (``emitted``, ``persisted``),
``correlation``. New keys may be added; these are never renamed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson


def build_summary(
    *,
    ticks: int,
    seconds: float,
    symbols: Mapping[str, Mapping[str, Any]],
    feeds: Mapping[str, Mapping[str, Any]],
    emitted: int,
    persisted: int,
    correlation: Mapping[str, Any],
    engine: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the summary document for one run."""
    rate = ticks / seconds if seconds > 0 else 0.0
    summary: dict[str, Any] = {
        "ticks": ticks,
        "seconds": round(seconds, 3),
        "ticks_per_second": round(rate, 1),
        "symbols": dict(symbols),
        "feeds": dict(feeds),
        "events": {"emitted": emitted, "persisted": persisted},
        "correlation": dict(correlation),
    }
    if engine is not None:
        summary["engine"] = dict(engine)
    if extra:
        summary.update(extra)
    return summary


def _finite(value: Any) -> Any:
    """Return ``value`` with NaN/inf floats replaced by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def write_summary(path: str | Path, summary: Mapping[str, Any]) -> None:
    """Write ``summary`` as indented JSON atomically (a reader never sees half a file)."""
    path = Path(path)
    data = orjson.dumps(_finite(dict(summary)), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data + b"\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
