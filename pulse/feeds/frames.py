"""Turning raw provider frames into numbers, or into a counted reason for refusing them.

:class:`Rejected` says why a raw frame could not be used; its ``reason`` is the key in a
feed's ``counters.parse_failures``. Number coercion refuses NaN, infinities and (where asked)
non-positive prices. Shared by every live provider's pure parsers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rejected:
    """A raw frame that could not be turned into ticks, and why (a parse-failure reason)."""

    reason: str
    detail: str = ""


def decode_object(raw: str | bytes) -> dict[str, Any] | Rejected:
    """Decode one JSON object frame; return :class:`Rejected` for anything else."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Rejected("bad_encoding")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return Rejected("bad_json", repr(raw[:80]))
    if not isinstance(obj, dict):
        return Rejected("not_an_object", type(obj).__name__)
    return obj


def to_number(value: Any) -> float | None:
    """Return ``value`` (a number or numeric string) as a finite float, else None."""
    if isinstance(value, bool):  # bool is an int subclass; True is not a price
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def field_number(obj: Mapping[str, Any], key: str, *, positive: bool = False) -> float | Rejected:
    """Read ``obj[key]`` as a finite float (strictly positive if ``positive``) or say why not."""
    if key not in obj or obj[key] is None:
        return Rejected("missing_field", key)
    number = to_number(obj[key])
    if number is None:
        return Rejected("bad_number", f"{key}={obj[key]!r:.40}")
    if positive and number <= 0:
        return Rejected("nonpositive_price", f"{key}={number!r}")
    return number


def epoch_seconds(value: Any) -> float | Rejected:
    """Convert a provider timestamp in epoch milliseconds (or seconds, if small) to seconds."""
    number = to_number(value)
    if number is None or number <= 0:
        return Rejected("bad_timestamp", f"{value!r:.40}")
    # Epoch seconds stay below 1e11 until the year 5138; milliseconds are above it since 1973.
    return number / 1000.0 if number >= 1e11 else number
