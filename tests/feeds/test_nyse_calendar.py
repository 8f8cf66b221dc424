"""NYSE holidays and early closes from rules, checked against the published calendars."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pulse.feeds.market_hours import (
    CLOSED,
    EXTENDED,
    NEW_YORK,
    REGULAR,
    us_stock_session,
    us_stocks_open,
)
from pulse.feeds.nyse_calendar import easter, holidays, is_early_close, is_holiday

# NYSE's published holiday and early-close calendars.
PUBLISHED = {
    2024: (["01-01", "01-15", "02-19", "03-29", "05-27", "06-19", "07-04", "09-02", "11-28",
            "12-25"], ["07-03", "11-29", "12-24"]),
    2025: (["01-01", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01", "11-27",
            "12-25"], ["07-03", "11-28", "12-24"]),
    2026: (["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26",
            "12-25"], ["11-27", "12-24"]),
}


def _dates(year: int, days: list[str]) -> set[date]:
    return {date.fromisoformat(f"{year}-{d}") for d in days}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_holidays_and_early_closes_match_the_published_calendar(year):
    closed, early = PUBLISHED[year]
    assert set(holidays(year)) == _dates(year, closed)
    every_day = [date.fromordinal(n) for n in range(date(year, 1, 1).toordinal(),
                                                     date(year + 1, 1, 1).toordinal())]
    assert {d for d in every_day if is_early_close(d)} == _dates(year, early)


def test_weekend_rules():
    assert date(2021, 12, 31) not in holidays(2021)  # New Year 2022 on a Saturday: kept open
    assert not is_holiday(date(2021, 12, 31)) and date(2022, 1, 1) not in holidays(2022)
    assert date(2022, 6, 20) in holidays(2022)  # Juneteenth on a Sunday: Monday
    assert not any(d.month == 6 and d.day in (18, 19, 20) for d in holidays(2021))  # pre-2022
    assert date(2027, 12, 24) in holidays(2027) and not is_early_close(date(2027, 12, 24))
    assert date(2027, 7, 5) in holidays(2027)  # Independence Day on a Sunday


def test_easter_known_dates():
    assert [easter(y) for y in (2000, 2019, 2024, 2025, 2026, 2038)] == [
        date(2000, 4, 23), date(2019, 4, 21), date(2024, 3, 31), date(2025, 4, 20),
        date(2026, 4, 5), date(2038, 4, 25)]


def ny(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).timestamp()


def test_sessions_follow_holidays_and_early_closes():
    assert us_stock_session(ny("2026-11-26 10:00"))[0] == CLOSED  # Thanksgiving
    assert us_stock_session(ny("2026-11-26 10:00"))[2] == ny("2026-11-27 00:00")
    name, _, end = us_stock_session(ny("2026-11-27 12:59"))
    assert name == REGULAR and end == ny("2026-11-27 13:00")
    assert us_stock_session(ny("2026-11-27 13:30"))[0] == EXTENDED
    assert us_stock_session(ny("2026-11-27 17:30"))[0] == CLOSED
    assert us_stocks_open(ny("2026-12-24 12:00")) and not us_stocks_open(ny("2026-12-24 13:01"))
    assert not us_stocks_open(ny("2026-07-03 11:00"))  # observed Independence Day
    assert us_stocks_open(ny("2026-07-02 15:59"))  # an ordinary full day
    assert us_stock_session(ny("2026-11-23 16:30"))[0] == EXTENDED  # a plain Monday
