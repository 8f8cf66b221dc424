"""Transactional operations on one user's watchlists, shared by the app views and the admin.

Invariants kept here: a user with at least one watchlist has exactly one default (the
"active" list the dashboard opens), and item positions are 0..n-1 in display order. Each
operation locks the owner (their user row, then their watchlists) first so two concurrent
requests cannot both leave a default behind, nor both take the last slot of a quota
(PostgreSQL row locks; SQLite serializes writers anyway). Creating a watchlist, adding or
replacing symbols and creating instruments check the owner's quotas
(``pulse.watchlists.quotas``) under that lock and raise ``QuotaExceeded`` before writing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, QuerySet

from pulse.models import AssetClassMismatch, Instrument, Watchlist, WatchlistItem
from pulse.watchlists import quotas


def owned(owner) -> QuerySet[Watchlist]:
    """Return ``owner``'s watchlists, the default first, then by name."""
    return Watchlist.objects.filter(owner=owner).order_by("-is_default", "name", "id")


def lock_owner(owner) -> Any:
    """Lock ``owner``'s user row and return it, fresh (staff status included).

    A per-user mutex that works even before the user has any watchlist. Call it inside a
    transaction: the lock holds until that commits.
    """
    owner_id = getattr(owner, "pk", owner)
    return get_user_model().objects.select_for_update().filter(pk=owner_id).first()


def _lock_all(owner) -> tuple[Any, list[Watchlist]]:
    """Lock the owner, then their watchlists (always in this order); return both."""
    user = lock_owner(owner)
    return user, list(Watchlist.objects.select_for_update().filter(owner=owner).order_by("id"))


def _lock(owner) -> list[Watchlist]:
    return _lock_all(owner)[1]


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
    """Create a watchlist; the user's first one becomes their default.

    Raises ``QuotaExceeded`` when the owner already has ``PULSE_MAX_WATCHLISTS``.
    """
    with transaction.atomic():
        user, lists = _lock_all(owner)
        quotas.check_watchlists(user)
        first = not lists
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


def _saved(instruments: list[Instrument], owner: Any) -> list[Instrument]:
    """Return ``instruments`` with the unsaved ones (symbols new to Market Pulse) created.

    One created meanwhile by someone else is simply used, if it has the same asset class;
    with another class this raises ``AssetClassMismatch`` (a symbol names one instrument;
    the database's unique symbol makes the check race-free). Only the instruments this call
    really creates count against ``owner``'s quota of new instruments, and are recorded as
    theirs. Call under the owner's lock.
    """
    found: dict[str, Instrument] = {}
    for instrument in instruments:
        if instrument.pk is None:
            existing = Instrument.objects.filter(symbol=instrument.symbol).first()
            if existing is not None:
                found[instrument.symbol] = _same_class(existing, instrument.asset_class)
    new = {i.symbol for i in instruments if i.pk is None and i.symbol not in found}
    quotas.check_new_instruments(owner, len(new))
    result = []
    for instrument in instruments:
        if instrument.pk is None:
            if instrument.symbol not in found:
                found[instrument.symbol] = Instrument.objects.get_or_create(
                    symbol=instrument.symbol,
                    defaults={"asset_class": instrument.asset_class, "created_by": owner},
                )[0]
            instrument = _same_class(found[instrument.symbol], instrument.asset_class)
        result.append(instrument)
    return result


def _same_class(instrument: Instrument, asset: str) -> Instrument:
    """Return ``instrument`` if it has class ``asset``; else raise ``AssetClassMismatch``."""
    if instrument.asset_class != asset:
        raise AssetClassMismatch(instrument.symbol, instrument.asset_class, asset)
    return instrument


def add_instrument(watchlist: Watchlist, instrument: Instrument) -> WatchlistItem:
    """Append ``instrument`` at the end of ``watchlist`` (the form rejects duplicates).

    An unsaved ``instrument`` (a symbol new to Market Pulse) is created first; ingest picks
    it up with the next poll of the watchlists' symbols. Raises ``QuotaExceeded`` (nothing
    written) when the list is full or the owner created too many instruments today, and
    ``AssetClassMismatch`` when the symbol was created meanwhile with another class.
    """
    with transaction.atomic():
        owner, _ = _lock_all(watchlist.owner_id)
        quotas.check_symbols(owner, watchlist.items.count() + 1)
        (instrument,) = _saved([instrument], owner)
        last = watchlist.items.aggregate(last=Max("position"))["last"]
        return WatchlistItem.objects.create(
            watchlist=watchlist, instrument=instrument, position=0 if last is None else last + 1
        )


def replace_instruments(watchlist: Watchlist, instruments: list[Instrument]) -> None:
    """Make ``instruments`` (distinct; unsaved ones are created) the list's items, in order.

    Raises ``QuotaExceeded`` (nothing written) when there are too many of them or they
    would make the owner create too many instruments today, and ``AssetClassMismatch``
    (nothing written) when a new one's symbol exists meanwhile with another class.
    """
    with transaction.atomic():
        owner, _ = _lock_all(watchlist.owner_id)
        quotas.check_symbols(owner, len(instruments))
        instruments = _saved(instruments, owner)
        watchlist.items.all().delete()
        WatchlistItem.objects.bulk_create(
            WatchlistItem(watchlist=watchlist, instrument=instrument, position=position)
            for position, instrument in enumerate(instruments)
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
