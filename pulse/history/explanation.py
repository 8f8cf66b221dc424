"""Turn a stored event's ``details`` (the engine's explanation) into readable rows."""

from __future__ import annotations

import json
from typing import Any

from pulse.engine.events import finite_number
from pulse.models import Event

MISSING = "\u2013"  # an en dash: "no value recorded"
# Keys shown in the curated explanation table; everything else is listed as recorded.
_CURATED = {"id", "value", "threshold", "z", "window", "regime", "ref_price", "ref_age", "price",
            "message", "also"}


def _percent(value: Any, signed: bool = True) -> str:
    number = finite_number(value)
    if number is None:
        return MISSING
    return f"{number:+.3%}" if signed else f"{number:.3%}"


def _plain(value: Any, fmt: str = "g") -> str:
    number = finite_number(value)
    return MISSING if number is None else format(number, fmt)


def _seconds(value: Any) -> str:
    number = finite_number(value)
    if number is None:
        return MISSING
    if number >= 60 and number % 60 == 0:
        return f"{number / 60:g} min ({number:g} s)"
    return f"{number:.1f} s" if number % 1 else f"{number:g} s"


def explanation_rows(event: Event) -> list[tuple[str, str, str]]:
    """Return ``(label, value, help)`` rows explaining why ``event`` fired."""
    details = event.details if isinstance(event.details, dict) else {}

    def pick(key: str) -> Any:
        # Columns are the source of truth; details fill in what has no column.
        column = getattr(event, key, None)
        return column if column is not None else details.get(key)

    spike = event.type == "vol_spike"
    value_label = "Realized volatility (annualized)" if spike else "Move"
    z_label = "Ratio to baseline" if spike else "z-score"
    z = finite_number(pick("z"))
    rows = [
        (value_label, _percent(pick("value"), signed=not spike),
         "What the engine measured over the window."),
        ("Threshold", _percent(pick("threshold"), signed=not spike),
         "The level it had to cross to fire."),
        (z_label, MISSING if z is None else (f"{z:.2f}x" if spike else f"{z:+.2f}"),
         "How unusual the move was against its recent baseline."),
        ("Window", _seconds(pick("window")), "Length of the measured move, in event time."),
        ("Regime", event.regime or str(details.get("regime") or MISSING),
         "Volatility regime of the symbol when it fired."),
        ("Reference price", _plain(details.get("ref_price")),
         "The last price at or before the start of the window."),
        ("Reference age", _seconds(details.get("ref_age")),
         "How old that reference price was: large ages mean sparse data."),
        ("Price", _plain(pick("price")), "The price of the tick that triggered the event."),
    ]
    also = details.get("also")
    if also:
        rows.append(("Also fired", ", ".join(map(str, also)), "Merged into this event."))
    return rows


def recorded_fields(event: Event) -> list[tuple[str, str]]:
    """Return every other key of ``details`` as ``(key, text)``, for completeness."""
    details = event.details if isinstance(event.details, dict) else {}
    return [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in sorted(details.items())
        if key not in _CURATED
    ]
