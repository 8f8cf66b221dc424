"""``setup_demo``: create the demo login, its watchlist and an example alert rule.

Embedded development mode only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pulse.feeds.universe import DEFAULT_UNIVERSE
from pulse.models import AlertRule, Instrument, Watchlist, WatchlistItem

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
DEMO_RULE_NAME = "Any stress on Market"


class Command(BaseCommand):
    help = (
        "Create the demo user (demo/demo) with a default watchlist of the built-in universe "
        "and an example in-app alert rule, if absent. Refuses with DEBUG off or outside "
        "embedded mode."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create a demo login with DEBUG off")
        if settings.DATABASE_URL or settings.REDIS_URL:
            raise CommandError("the demo login is for embedded mode (no DATABASE_URL/REDIS_URL)")
        with transaction.atomic():
            instruments = [
                # One instrument per symbol: a known symbol is used as it is.
                Instrument.objects.get_or_create(symbol=ref.symbol,
                                                 defaults={"asset_class": ref.asset})[0]
                for ref in DEFAULT_UNIVERSE
            ]
            user_model = get_user_model()
            if user_model.objects.filter(username=DEMO_USERNAME).exists():
                self.stdout.write("demo user already exists; left as it is")
                return
            user = user_model.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD)
            watchlist = Watchlist.objects.create(owner=user, name="Market", is_default=True)
            WatchlistItem.objects.bulk_create(
                WatchlistItem(watchlist=watchlist, instrument=instrument, position=i)
                for i, instrument in enumerate(instruments)
            )
            # An example rule that fires within minutes on the simulator: any stress event
            # (every type, warning or worse) on the watchlist, as an in-app toast only (no
            # webhook endpoint), at most once per symbol every 5 minutes.
            AlertRule.objects.create(
                owner=user, name=DEMO_RULE_NAME, scope=AlertRule.Scope.WATCHLIST,
                watchlist=watchlist, min_severity=AlertRule.Severity.WARNING,
                mode=AlertRule.Mode.EVERY, cooldown_seconds=300, in_app=True,
            )
        self.stdout.write(f"created demo user with a {len(instruments)}-symbol watchlist "
                          f"and the alert rule {DEMO_RULE_NAME!r}")
