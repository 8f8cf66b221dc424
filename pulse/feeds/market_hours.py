"""Trading hours of the markets Market Pulse follows, in New York time.

Used by the simulator (when stocks tick, and how fast) and by the live feeds' silence
watchdogs (a quiet US stock socket at night is normal, a quiet crypto socket is not).
NYSE holidays are closed all day and early-close days end the regular session at 13:00
and the extended one at 17:00 (``pulse.feeds.nyse_calendar``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from pulse.feeds.nyse_calendar import is_early_close, is_holiday

REGULAR: Final = "regular"
EXTENDED: Final = "extended"
CLOSED: Final = "closed"

NEW_YORK: Final = ZoneInfo("America/New_York")
_SESSION_STARTS: Final = (
    (clock_time(0, 0), CLOSED),
    (clock_time(4, 0), EXTENDED),
    (clock_time(9, 30), REGULAR),
    (clock_time(16, 0), EXTENDED),
    (clock_time(20, 0), CLOSED),
)
_EARLY_CLOSE_STARTS: Final = (
    (clock_time(0, 0), CLOSED),
    (clock_time(4, 0), EXTENDED),
    (clock_time(9, 30), REGULAR),
    (clock_time(13, 0), EXTENDED),
    (clock_time(17, 0), CLOSED),
)


@lru_cache(maxsize=32)
def _day_sessions(ordinal: int) -> tuple[tuple[float, float, str], ...]:
    """Return the (start, end, session) segments of one New York calendar day."""
    day = date.fromordinal(ordinal)
    end_of_day = datetime.combine(day + timedelta(days=1), clock_time(0, 0), NEW_YORK).timestamp()
    if day.weekday() >= 5 or is_holiday(day):
        start = datetime.combine(day, clock_time(0, 0), NEW_YORK).timestamp()
        return ((start, end_of_day, CLOSED),)
    sessions = _EARLY_CLOSE_STARTS if is_early_close(day) else _SESSION_STARTS
    starts = [datetime.combine(day, t, NEW_YORK).timestamp() for t, _ in sessions]
    ends = [*starts[1:], end_of_day]
    return tuple((s, e, name) for s, e, (_, name) in zip(starts, ends, sessions, strict=True))


def us_stock_session(ts: float) -> tuple[str, float, float]:
    """Return ``(session, start, end)`` of the US stock session containing epoch ``ts``.

    ``session`` is ``"regular"``, ``"extended"`` or ``"closed"``; ``end`` is when it may
    change (segments are split at New York midnight). NYSE holidays are closed.
    """
    ordinal = datetime.fromtimestamp(ts, NEW_YORK).date().toordinal()
    for start, end, name in _day_sessions(ordinal):
        if ts < end:
            return name, start, end
    # Only reachable through float rounding at midnight: the next day's first segment.
    start, end, name = _day_sessions(ordinal + 1)[0]
    return name, start, end


def us_stocks_open(now: float) -> bool:
    """Return True during the NYSE regular session (trading days 09:30-16:00 New York time,
    13:00 on early-close days)."""
    return us_stock_session(now)[0] == REGULAR


def forex_open(now: float) -> bool:
    """Return True while the forex market trades (Sunday 17:00 to Friday 17:00 New York)."""
    local = datetime.fromtimestamp(now, NEW_YORK)
    day, hour = local.weekday(), local.hour
    if day == 5:
        return False
    if day == 4:
        return hour < 17
    if day == 6:
        return hour >= 17
    return True
