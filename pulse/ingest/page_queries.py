"""Answers to per-page requests (correlation for a page's symbols, price history), cached.

Many pages may ask every few seconds, so each answer is cached per request key for
``ttl`` seconds: a hundred dashboards on the same watchlist cost ingest one computation
per refresh interval. Keys include everything that changes the answer (symbols, base,
window, method, bucket), so different pages never see each other's parameters.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from pulse.engine import Engine
from pulse.realtime.broadcast import dumps

BUCKETS = (10, 20, 30)
METHODS = ("kernel", "grid_hy", "grid", "bucketed")
MAX_SYMBOLS = 40  # a page's matrix is at most this wide: bounds the work per request
TOP_K = 5


def clean_correlation_request(message: dict[str, Any]) -> dict[str, Any] | None:
    """Return the validated correlation parameters of a request, or None if malformed."""
    symbols = message.get("symbols")
    if symbols is not None:
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            return None
        symbols = list(dict.fromkeys(symbols))[:MAX_SYMBOLS]
    base = message.get("base")
    if base is not None and not isinstance(base, str):
        return None
    bucket = message.get("bucket")
    if bucket is not None and bucket not in BUCKETS:
        return None
    method = message.get("method") or ("bucketed" if bucket else None)
    if method is not None and method not in METHODS:
        return None
    return {"symbols": symbols, "base": base, "bucket": bucket, "method": method}


class PageQueries:
    """Compute and cache the answers ingest gives to individual pages."""

    def __init__(self, engine: Engine, *, ttl: float = 2.0, max_entries: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        # key -> (computed at, JSON text); least recently used first, bounded by max_entries.
        self._cache: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self.computed = 0
        self.hits = 0

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> str:
        now = self.clock()
        entry = self._cache.get(key)
        if entry is not None and now - entry[0] < self.ttl:
            self._cache.move_to_end(key)
            self.hits += 1
            return entry[1]
        text = dumps(compute())
        self.computed += 1
        self._cache[key] = (now, text)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return text

    def correlation(self, symbols: Sequence[str], base: str | None, *, window: float | None,
                    method: str | None, bucket: int | None) -> str:
        """Return the correlation JSON (matrix, coverage, stderr, top-k against ``base``) as
        text."""
        names = sorted(dict.fromkeys(symbols))[:MAX_SYMBOLS]
        if base not in names:
            base = names[0] if names else None
        key = ("corr", tuple(names), base, window, method, bucket)
        return self._cached(key, lambda: self._correlation(names, base, window, method, bucket))

    def _correlation(self, names: list[str], base: str | None, window: float | None,
                     method: str | None, bucket: int | None) -> dict[str, Any]:
        engine = self.engine
        if engine.now is None or not names:
            return {"symbols": names, "matrix": [], "coverage": [], "status": [], "stderr": [],
                    "top": [], "base": base, "bucket": bucket, "method": method}
        if bucket:
            window = self._bucketed_window(names[0] if base is None else base, window, bucket)
        corr = engine.correlation(names, base=base, window=window, method=method,
                                  bucket_seconds=bucket)
        top = engine.top_correlated(base, names, TOP_K, window=window, method=method,
                                    bucket_seconds=bucket)
        corr["top"] = top
        corr["bucket"] = bucket
        return corr

    def _bucketed_window(self, base: str, window: float | None, bucket: int) -> float:
        """Return a lookback long enough for ``bucket``-second returns to reach the minimum
        overlap (the regime-aware 5-minute window holds only 15 buckets of 20 s), clamped
        to what the tracker keeps.
        """
        cfg = self.engine.correlation_config
        chosen = self.engine.correlation_window(base, window)
        need = bucket * (cfg.min_overlap + 10)
        return min(max(chosen, need), cfg.max_window - 4 * bucket)

    def history(self, symbols: Sequence[str], seconds: float, step: float) -> str:
        """Return ``{"seconds", "step", "series": {symbol: [[ts, price], ...]}}`` as text."""
        names = sorted(dict.fromkeys(symbols))[:MAX_SYMBOLS]
        key = ("hist", tuple(names), seconds, step)
        return self._cached(key, lambda: {
            "seconds": seconds, "step": step,
            "series": {name: points for name in names
                       if (points := self.engine.history(name, seconds, step))},
        })
