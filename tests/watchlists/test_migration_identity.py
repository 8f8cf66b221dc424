"""Migrations 0008/0009: existing duplicate instruments are repaired, then symbols are unique.

Migrates the database back to 0007 (one symbol could exist in several classes), creates the
issue's state (SOL-USD as Crypto and as Forex, both on watchlists, a recording mixing both
streams), migrates forward and checks the repair. Runs on whichever database the tests use
(SQLite by default; ``DATABASE_URL=postgres://...`` runs it on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("pulse", "0007_instrument_creator")]
AFTER = [("pulse", "0009_instrument_symbol_unique")]
T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def migrate(targets):
    """Migrate to ``targets`` and return the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(executor_leaf())


def executor_leaf():
    """Return the latest migration of every app (the state the other tests expect)."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_duplicates_are_merged_into_the_oldest_and_the_recording_dropped(old_apps,
                                                                         django_user_model):
    Instrument = old_apps.get_model("pulse", "Instrument")
    Watchlist = old_apps.get_model("pulse", "Watchlist")
    Item = old_apps.get_model("pulse", "WatchlistItem")
    Recorded = old_apps.get_model("pulse", "RecordedMinute")
    AlertRule = old_apps.get_model("pulse", "AlertRule")
    User = old_apps.get_model(*django_user_model._meta.label.split("."))
    alice = User.objects.create(username="alice")
    bob = User.objects.create(username="bob")

    sol = Instrument.objects.create(symbol="SOL-USD", asset_class="crypto")  # oldest: kept
    sol_fx = Instrument.objects.create(symbol="SOL-USD", asset_class="forex")
    aapl = Instrument.objects.create(symbol="AAPL", asset_class="stocks")
    btc = Instrument.objects.create(symbol="BTC-USD", asset_class="crypto")
    lower = Instrument.objects.create(symbol="eth-usd", asset_class="crypto")
    old_inactive = Instrument.objects.create(symbol="DOGE-USD", asset_class="stocks",
                                             active=False)
    doge = Instrument.objects.create(symbol="DOGE-USD", asset_class="crypto")  # active: kept

    # alice has both SOL-USDs: the first in display order stays, at its place.
    mixed = Watchlist.objects.create(owner=alice, name="Mixed", is_default=True)
    for position, instrument in enumerate([aapl, sol_fx, btc, sol, doge]):
        Item.objects.create(watchlist=mixed, instrument=instrument, position=position)
    # bob has only the Forex one: repointed to the kept instrument.
    fx = Watchlist.objects.create(owner=bob, name="FX", is_default=True)
    Item.objects.create(watchlist=fx, instrument=sol_fx, position=0)
    Item.objects.create(watchlist=fx, instrument=old_inactive, position=1)
    Item.objects.create(watchlist=fx, instrument=lower, position=2)
    rule = AlertRule.objects.create(owner=bob, name="SOL moves", scope="symbol",
                                    symbol="SOL-USD")
    for symbol, asset in [("SOL-USD", "crypto"), ("SOL-USD", "forex"), ("AAPL", "stocks")]:
        start = T0 + dt.timedelta(minutes=1 if asset == "forex" else 0)
        Recorded.objects.create(symbol=symbol, asset_class=asset, start=start, cells=1,
                                ticks=1, data=b"x")
    Recorded.objects.create(symbol="eth-usd", asset_class="crypto", start=T0, cells=1,
                            ticks=1, data=b"x")

    apps = migrate(AFTER)
    Instrument = apps.get_model("pulse", "Instrument")
    Item = apps.get_model("pulse", "WatchlistItem")
    Recorded = apps.get_model("pulse", "RecordedMinute")
    AlertRule = apps.get_model("pulse", "AlertRule")

    assert sorted(Instrument.objects.values_list("symbol", "asset_class", "pk")) == [
        ("AAPL", "stocks", aapl.pk), ("BTC-USD", "crypto", btc.pk),
        ("DOGE-USD", "crypto", doge.pk), ("ETH-USD", "crypto", lower.pk),
        ("SOL-USD", "crypto", sol.pk)]

    def items(watchlist):
        return list(Item.objects.filter(watchlist_id=watchlist.pk).order_by("position")
                    .values_list("instrument__symbol", "instrument__asset_class", "position"))

    assert items(mixed) == [("AAPL", "stocks", 0), ("SOL-USD", "crypto", 1),
                            ("BTC-USD", "crypto", 2), ("DOGE-USD", "crypto", 3)]
    assert items(fx) == [("SOL-USD", "crypto", 0), ("DOGE-USD", "crypto", 1),
                         ("ETH-USD", "crypto", 2)]
    # The mixed recording is a cache: gone for the repaired symbols, kept for the others.
    assert list(Recorded.objects.values_list("symbol", flat=True)) == ["AAPL"]
    assert AlertRule.objects.get(pk=rule.pk).symbol == "SOL-USD"

    # From now on the database refuses a second class and a lower-case symbol.
    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.create(symbol="SOL-USD", asset_class="forex")
    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.create(symbol="xrp-usd", asset_class="crypto")


def test_a_clean_database_migrates_forward_and_back(old_apps):
    Instrument = old_apps.get_model("pulse", "Instrument")
    Instrument.objects.create(symbol="AAPL", asset_class="stocks")
    apps = migrate(AFTER)
    assert list(apps.get_model("pulse", "Instrument").objects.values_list("symbol", flat=True)
                ) == ["AAPL"]
    apps = migrate(BEFORE)  # the repair has nothing to undo; the constraints are removed
    Instrument = apps.get_model("pulse", "Instrument")
    Instrument.objects.create(symbol="AAPL", asset_class="crypto")
    assert Instrument.objects.count() == 2
    Instrument.objects.filter(asset_class="crypto").delete()
