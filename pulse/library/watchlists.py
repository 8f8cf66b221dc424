"""Transactional operations on one user's watchlists, shared by the app views and the admin.

Invariants kept here: a user with at least one watchlist has exactly one default (the
"active" list the dashboard opens), and item positions are 0..n-1 in display order. Each
operation locks the owner's watchlists first so two concurrent requests cannot both leave
a default behind (PostgreSQL row locks; SQLite serializes writers anyway).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, QuerySet

from pulse.models import Instrument, Watchlist, WatchlistItem


def owned(owner) -> QuerySet[Watchlist]:
    """Return ``owner``'s watchlists, the default first, then by name."""
    return Watchlist.objects.filter(owner=owner).order_by("-is_default", "name", "id")


def _lock(owner) -> list[Watchlist]:
    return list(Watchlist.objects.select_for_update().filter(owner=owner).order_by("id"))


def ensure_one_default(owner) -> None:
    """Make sure ``owner`` has exactly one default watchlist if they have any."""
    with transaction.atomic():
        lists = _lock(owner)
        defaults = [w for w in lists if w.is_default]
        if len(defaults) == 1 or not lists:
            return
        keep = defaults[0] if defaults else min(lists, key=lambda w: (w.name, w.id))
        Watchlist.objects.filter(owner=owner, is_default=True).exclude(pk=keep.pk).update(
            is_default=False
        )
        Watchlist.objects.filter(pk=keep.pk).update(is_default=True)


def create(owner, name: str) -> Watchlist:
    """Create a watchlist; the user's first one becomes their default."""
    with transaction.atomic():
        first = not _lock(owner)
        return Watchlist.objects.create(owner=owner, name=name, is_default=first)


def rename(watchlist: Watchlist, name: str) -> None:
    """Give ``watchlist`` a new name (uniqueness is checked by the form)."""
    watchlist.name = name
    watchlist.save(update_fields=["name", "updated_at"])


def set_default(watchlist: Watchlist) -> None:
    """Make ``watchlist`` its owner's default (active) list and no other."""
    with transaction.atomic():
        _lock(watchlist.owner_id)
        # Clear first: the partial unique constraint allows one default row at a time.
        Watchlist.objects.filter(owner=watchlist.owner_id, is_default=True).exclude(
            pk=watchlist.pk
        ).update(is_default=False)
        Watchlist.objects.filter(pk=watchlist.pk).update(is_default=True)
        watchlist.is_default = True


def delete(watchlist: Watchlist) -> None:
    """Delete ``watchlist``; if it was the default, promote another one."""
    with transaction.atomic():
        _lock(watchlist.owner_id)
        watchlist.delete()
        ensure_one_default(watchlist.owner_id)


def add_instrument(watchlist: Watchlist, instrument: Instrument) -> WatchlistItem:
    """Append ``instrument`` at the end of ``watchlist`` (the form rejects duplicates).

    An unsaved ``instrument`` (a symbol new to Market Pulse) is created first; ingest picks
    it up with the next poll of the watchlists' symbols.
    """
    with transaction.atomic():
        _lock(watchlist.owner_id)
        if instrument.pk is None:
            instrument, _ = Instrument.objects.get_or_create(
                asset_class=instrument.asset_class, symbol=instrument.symbol
            )
        last = watchlist.items.aggregate(last=Max("position"))["last"]
        return WatchlistItem.objects.create(
            watchlist=watchlist, instrument=instrument, position=0 if last is None else last + 1
        )


def remove_item(item: WatchlistItem) -> None:
    """Remove ``item`` and close the gap in positions."""
    with transaction.atomic():
        watchlist = item.watchlist
        item.delete()
        renumber(watchlist)


def renumber(watchlist: Watchlist, order: list[int] | None = None) -> None:
    """Write positions 0..n-1, following ``order`` (item ids) or the current order."""
    with transaction.atomic():
        items = list(watchlist.items.select_for_update().order_by("position", "id"))
        if order is not None:
            rank = {item_id: i for i, item_id in enumerate(order)}
            items.sort(key=lambda item: rank[item.pk])
        changed = []
        for position, item in enumerate(items):
            if item.position != position:
                item.position = position
                changed.append(item)
        WatchlistItem.objects.bulk_update(changed, ["position"])


def move_item(item: WatchlistItem, offset: int) -> bool:
    """Move ``item`` up (-1) or down (+1); return False when it is already at that end."""
    with transaction.atomic():
        ids = list(item.watchlist.items.order_by("position", "id").values_list("id", flat=True))
        index = ids.index(item.pk)
        target = index + offset
        if not 0 <= target < len(ids):
            return False
        ids[index], ids[target] = ids[target], ids[index]
        renumber(item.watchlist, ids)
        return True


def reorder(watchlist: Watchlist, order: list[int]) -> bool:
    """Apply a full new order of item ids; return False unless it is a permutation of them."""
    with transaction.atomic():
        current = set(watchlist.items.values_list("id", flat=True))
        if len(order) != len(current) or set(order) != current:
            return False
        renumber(watchlist, order)
        return True
