"""Per-user quotas on watchlists, their symbols, and instruments new to Market Pulse.

Ingest subscribes the union of every watchlist's symbols at the data providers, so without
limits one user (or a stolen session or API token) could make it subscribe thousands of
bogus symbols. The limits are settings (README, Configuration):

- ``PULSE_MAX_WATCHLISTS``: watchlists one user owns;
- ``PULSE_MAX_WATCHLIST_SYMBOLS``: symbols on one watchlist;
- ``PULSE_MAX_NEW_INSTRUMENTS_PER_DAY``: instruments one user creates (symbols new to Market
  Pulse) in any rolling 24 hours. Adding a symbol that already exists never counts.

Staff and superusers are exempt. The checks apply to the watchlist's **owner**, whoever makes
the change (a superuser editing alice's list in the admin meets alice's limits).

Every check runs while the caller holds the owner's lock (``watchlists.lock_owner``, taken by
the operations in ``pulse.watchlists.operations`` and by the admin's forms), so two concurrent
requests cannot both pass the last free slot. The pages, the admin and the REST API all go
through these functions; a refusal is a ``QuotaExceeded`` (a ``ValidationError``, so forms
show it as it is).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from pulse.models import Instrument, Watchlist

WINDOW = dt.timedelta(hours=24)


class QuotaExceeded(ValidationError):
    """A per-user limit would be exceeded; ``setting`` names it and ``limit`` is its value."""

    def __init__(self, setting: str, limit: int, message: str) -> None:
        super().__init__(message, code="quota_exceeded")
        self.setting = setting
        self.limit = limit

    def detail(self) -> dict[str, Any]:
        """Return the REST API's error detail: the setting, its value and the message."""
        return {"limit": self.setting, "max": self.limit, "message": self.message}


def exempt(user: Any) -> bool:
    """Return whether ``user`` has no quotas (staff and superusers)."""
    return bool(user is not None and (user.is_staff or user.is_superuser))


def max_watchlists() -> int:
    return settings.PULSE_MAX_WATCHLISTS


def max_symbols() -> int:
    return settings.PULSE_MAX_WATCHLIST_SYMBOLS


def max_new_instruments() -> int:
    return settings.PULSE_MAX_NEW_INSTRUMENTS_PER_DAY


def check_watchlists(owner: Any, adding: int = 1) -> None:
    """Refuse giving ``owner`` ``adding`` more watchlists beyond ``PULSE_MAX_WATCHLISTS``."""
    if adding <= 0 or exempt(owner):
        return
    limit = max_watchlists()
    have = Watchlist.objects.filter(owner=owner).count()
    if have + adding > limit:
        raise QuotaExceeded(
            "PULSE_MAX_WATCHLISTS", limit,
            f"You have {have} watchlists, the most allowed is {limit}: "
            f"delete one to create another.",
        )


def check_symbols(owner: Any, count: int) -> None:
    """Refuse a watchlist of ``owner`` holding ``count`` symbols, over the per-list limit."""
    if exempt(owner):
        return
    limit = max_symbols()
    if count > limit:
        raise QuotaExceeded(
            "PULSE_MAX_WATCHLIST_SYMBOLS", limit,
            f"A watchlist holds at most {limit} symbols ({count} asked): "
            f"remove some or use another watchlist.",
        )


def new_instruments_since(user: Any, now: dt.datetime | None = None) -> list[dt.datetime]:
    """Return when ``user`` created instruments in the last 24 hours, oldest first."""
    now = now or timezone.now()
    return list(Instrument.objects.filter(created_by=user, created_at__gt=now - WINDOW)
                .order_by("created_at").values_list("created_at", flat=True))


def check_new_instruments(creator: Any, adding: int) -> None:
    """Refuse ``creator`` creating ``adding`` instruments beyond the rolling 24 h limit."""
    if adding <= 0 or exempt(creator):
        return
    limit = max_new_instruments()
    now = timezone.now()
    recent = new_instruments_since(creator, now)
    if len(recent) + adding <= limit:
        return
    message = (f"You may add at most {limit} symbols new to Market Pulse in 24 hours "
               f"and have added {len(recent)}")
    if adding > 1:
        message += f" ({adding} more asked)"
    # The slot that frees first: the oldest creation in the window that must expire.
    frees = len(recent) + adding - limit
    if adding <= limit and frees <= len(recent):
        at = recent[frees - 1] + WINDOW
        message += f"; try again after {at:%Y-%m-%d %H:%M:%S} UTC"
    raise QuotaExceeded("PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", limit,
                        message + ". Symbols Market Pulse already knows are not limited.")
