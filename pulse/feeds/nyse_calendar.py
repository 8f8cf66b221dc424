"""NYSE full-day holidays and 13:00 early closes, computed from the exchange's rules.

Rules (NYSE Rule 7.2 and its published calendars): New Year's Day, Martin Luther King Jr.
Day (third Monday of January), Washington's Birthday (third Monday of February), Good
Friday, Memorial Day (last Monday of May), Juneteenth (from 2022), Independence Day, Labor
Day (first Monday of September), Thanksgiving (fourth Thursday of November) and Christmas.
A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday
after, except New Year's Day on a Saturday, which is not observed (the year-end close is
kept). Early closes (13:00 New York): July 3 and December 24 when they are trading days,
and the day after Thanksgiving.

Closures the exchange decides case by case (national days of mourning, such as
2025-01-09, or emergencies) cannot be computed and are not included.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def easter(year: int) -> date:
    """Return Easter Sunday of ``year`` (Gregorian calendar, anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of a month; ``n = -1`` for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Saturday holidays move to Friday, Sunday holidays to Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def holidays(year: int) -> dict[date, str]:
    """Return the full-day NYSE holidays observed in ``year``, by date."""
    days = {
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        easter(year) - timedelta(days=2): "Good Friday",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        _observed(date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        _observed(date(year, 12, 25)): "Christmas Day",
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:
        days[_observed(new_year)] = "New Year's Day"
    if year >= 2022:
        days[_observed(date(year, 6, 19))] = "Juneteenth National Independence Day"
    return days


def is_holiday(day: date) -> bool:
    """Return True if the NYSE is closed all day on ``day`` for a holiday."""
    return day in holidays(day.year)


def is_early_close(day: date) -> bool:
    """Return True if the regular session of ``day`` ends at 13:00 New York time."""
    if day.weekday() >= 5 or is_holiday(day):
        return False
    thanksgiving = _nth_weekday(day.year, 11, 3, 4)
    return (day == thanksgiving + timedelta(days=1)
            or (day.month, day.day) in ((7, 3), (12, 24)))
