"""Parse short durations such as ``1h``, ``90m``, ``2h30m`` or ``45s`` into seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Return the seconds of ``text``; raise ValueError if it is not a positive duration."""
    cleaned = str(text).strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"not a duration: {text!r} (use e.g. 1h, 90m, 2h30m, 45s)")
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return seconds
