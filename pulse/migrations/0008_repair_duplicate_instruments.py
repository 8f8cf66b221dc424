"""Repair instruments that share a symbol, before 0009 makes the symbol unique.

The symbol string is the canonical instrument id (docs/instruments.md). Before this
migration one symbol could exist in several asset classes (``SOL-USD`` as Crypto and as
Forex), and the engine, keyed by symbol, mixed their price streams. For each symbol (compared
upper case) with more than one instrument, or stored in lower case:

- keep one instrument: the **active** one, and among those the **oldest** (lowest id, the
  one that existed first, which is the class the engine and the recording mostly saw);
- repoint watchlist items to it; in a watchlist that held several of them only the first in
  display order stays (at its place), and positions are renumbered 0..n-1;
- delete the others;
- store the symbol upper case (0009 adds a check for it);
- delete the symbol's recorded minutes (``RecordedMinute``): the recording is a cache for
  warm starts, and it mixed both streams, so it must not poison the next start.

Alert rules and alert cooldowns name a symbol, not an instrument, so they follow the kept
one unchanged. Stored events are history and are kept as they were recorded.
Not reversible in data (the losers are gone); migrating back only undoes the schema (0009).
"""

from collections import defaultdict

from django.db import migrations


def _renumber(WatchlistItem, watchlist_id):
    items = list(WatchlistItem.objects.filter(watchlist_id=watchlist_id).order_by("position", "id"))
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])


def repair(apps, schema_editor):
    Instrument = apps.get_model("pulse", "Instrument")
    WatchlistItem = apps.get_model("pulse", "WatchlistItem")
    RecordedMinute = apps.get_model("pulse", "RecordedMinute")
    groups = defaultdict(list)
    for instrument in Instrument.objects.order_by("id"):
        groups[instrument.symbol.strip().upper()].append(instrument)
    for symbol, members in groups.items():
        if len(members) == 1 and members[0].symbol == symbol:
            continue
        keep = min(members, key=lambda i: (not i.active, i.id))
        ids = [m.pk for m in members]
        spellings = {m.symbol for m in members} | {symbol}
        by_watchlist = defaultdict(list)
        for item in WatchlistItem.objects.filter(instrument_id__in=ids).order_by(
                "position", "id"):
            by_watchlist[item.watchlist_id].append(item)
        for watchlist_id, items in by_watchlist.items():
            first, rest = items[0], items[1:]
            WatchlistItem.objects.filter(pk__in=[item.pk for item in rest]).delete()
            if first.instrument_id != keep.pk:
                first.instrument_id = keep.pk
                first.save(update_fields=["instrument"])
            _renumber(WatchlistItem, watchlist_id)
        Instrument.objects.filter(pk__in=ids).exclude(pk=keep.pk).delete()
        if keep.symbol != symbol:
            keep.symbol = symbol
            keep.save(update_fields=["symbol"])
        RecordedMinute.objects.filter(symbol__in=spellings).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("pulse", "0007_instrument_creator"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop, elidable=False),
    ]
