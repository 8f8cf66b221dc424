"""A recording stand-in for the correlation tracker, used to test the engine facade alone."""

from __future__ import annotations

from typing import Any


class FakeCorrelationConfig:
    """Accept any mapping, like the real config's ``from_mapping``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> FakeCorrelationConfig:
        """Return a config holding ``data``."""
        return cls(dict(data or {}))


class FakeTracker:
    """Record every call so tests can assert what the engine passed through."""

    def __init__(self, config: Any = None) -> None:
        self.config = config
        self.observed: list[tuple[str, float, float]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def observe(self, symbol: str, ts: float, price: float) -> None:
        """Record one accepted tick."""
        self.observed.append((symbol, ts, price))

    def forget(self, symbol: str) -> None:
        """Record that the engine restarted ``symbol``."""
        self.calls.append(("forget", {"symbol": symbol}))

    def matrix(self, symbols: list[str], now: float, *, window: float | None = None,
               method: str | None = None,
               bucket_seconds: float | None = None) -> dict[str, Any]:
        """Record the call and answer with an identity matrix."""
        self.calls.append(("matrix", {"symbols": symbols, "now": now, "window": window,
                                      "method": method, "bucket_seconds": bucket_seconds}))
        n = len(symbols)
        return {"symbols": symbols, "matrix": [[1.0 if i == j else None for j in range(n)]
                                               for i in range(n)],
                "coverage": [[0] * n for _ in range(n)], "method": method or "fake",
                "window": window, "as_of": now}

    def top_k(self, base: str, symbols: list[str], now: float, k: int = 3, *,
              window: float | None = None, method: str | None = None,
              bucket_seconds: float | None = None) -> list[dict[str, Any]]:
        """Record the call and answer with no pairs."""
        self.calls.append(("top_k", {"base": base, "symbols": symbols, "now": now, "k": k,
                                     "window": window, "method": method,
                                     "bucket_seconds": bucket_seconds}))
        return []
