"""The stress event record: what fired, why, and how strongly."""

from __future__ import annotations

import math
from typing import Any

MOVE_PREFIX = "move_"
VOL_SPIKE = "vol_spike"
UP = "up"
DOWN = "down"
WARNING = "warning"
CRITICAL = "critical"
SEVERITY_NAMES = ("", WARNING, CRITICAL)  # index = severity rank


def finite_number(value: Any) -> float | None:
    """Return a number field of an event dict (as sent, or as stored) as a float, else None.

    Non-finite numbers travel as ``null`` (see :func:`_json_float`); this is the reading side,
    shared by alert matching and the history page: a bool, a string, None, NaN or inf is "no
    value", never a number.

    >>> [finite_number(v) for v in (2, 0.5, True, "1", None, float("nan"))]
    [2.0, 0.5, None, None, None, None]
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _json_float(value: float | None) -> float | None:
    # JSON has no NaN/inf; a non-finite explanation number is reported as missing.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _duration(seconds: float) -> str:
    # "10m", "90s", "2h": a short human span for messages.
    s = round(seconds)
    if s >= 7200:
        return f"{s / 3600:.0f}h"
    if s >= 120:
        return f"{s / 60:.0f}m"
    return f"{s}s"


class StressEvent:
    """One stress event with its explanation (value, threshold, z, window, reference) and its
    place in the symbol's episode (``episode`` = id of the episode's first event, ``episode_seq``
    = 0 for that first event, 1, 2, ... for follow-ups that update or escalate its card).
    """

    __slots__ = ("also", "asset", "direction", "episode", "episode_seq", "gap", "price",
                 "ref_age", "ref_price", "regime", "severity", "span", "symbol", "threshold",
                 "ts", "type", "value", "window", "z")

    def __init__(self, *, symbol: str, asset: str, type: str, direction: str, severity: str,
                 ts: float, value: float, threshold: float, z: float | None, window: float,
                 regime: str, ref_price: float | None, ref_age: float | None, price: float,
                 also: tuple[str, ...] = (), span: float | None = None,
                 gap: bool = False) -> None:
        self.symbol = symbol
        self.asset = asset
        self.type = type
        self.direction = direction
        self.severity = severity
        self.ts = ts
        self.value = value
        self.threshold = threshold
        self.z = z
        self.window = window
        self.regime = regime
        self.ref_price = ref_price
        self.ref_age = ref_age
        self.price = price
        self.also = also  # other event types that fired on the same tick and were merged in
        self.span = window if span is None else span  # seconds the move is scored over
        self.gap = gap  # the reference is stale: the move spans a gap in the data
        self.episode: str | None = None  # set by the detector; None = its own episode
        self.episode_seq = 0

    @property
    def id(self) -> str:
        """Return the deterministic id ``symbol|type|direction|ts`` (idempotency key)."""
        return f"{self.symbol}|{self.type}|{self.direction}|{self.ts!r}"

    def message(self) -> str:
        """Return one human sentence explaining the event."""
        if self.type == VOL_SPIKE:
            text = (f"{self.symbol} {self.window:g}s realized vol {self.value:.1%} annualized "
                    f"is {self.z:.1f}x its baseline (threshold {self.threshold:.1%})")
        else:
            verb = "rose" if self.direction == UP else "fell"
            z = "" if self.z is None else f", z={self.z:+.1f}"
            age = "" if self.ref_age is None else f" {self.ref_age:.0f}s ago"
            over = (f"over {_duration(self.span)} (gap)" if self.gap
                    else f"in {self.window:g}s")
            text = (f"{self.symbol} {verb} {self.value:+.2%} {over} "
                    f"to {self.price:g} (threshold {self.threshold:+.2%}{z}; "
                    f"reference {self.ref_price:g}{age})")
        if self.also:
            text += f", also {', '.join(self.also)}"
        return f"{text}; regime {self.regime}."

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (no NaN or inf)."""
        return {
            "id": self.id,
            "symbol": self.symbol,
            "asset": self.asset,
            "type": self.type,
            "direction": self.direction,
            "severity": self.severity,
            "ts": self.ts,
            "value": _json_float(self.value),
            "threshold": _json_float(self.threshold),
            "z": _json_float(self.z),
            "window": self.window,
            "regime": self.regime,
            "ref_price": _json_float(self.ref_price),
            "ref_age": _json_float(self.ref_age),
            "price": self.price,
            "also": list(self.also),
            "span": _json_float(self.span),
            "gap": self.gap,
            "episode": self.episode if self.episode is not None else self.id,
            "episode_seq": self.episode_seq,
            "message": self.message(),
        }

    def __repr__(self) -> str:
        return f"StressEvent({self.id!r}, {self.severity!r})"
