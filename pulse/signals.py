"""Signal receivers that keep open WebSockets in step with the database.

An open socket must not outlive its user's logout, and a page showing a watchlist must
learn at once when that list changes (instead of every socket polling the database).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pulse.models import Watchlist, WatchlistItem
from pulse.realtime.broadcast import USER_LOGOUT, WATCHLIST_CHANGED, user_group

logger = logging.getLogger(__name__)


@receiver(user_logged_out)
def close_sockets_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Tell every socket of ``user`` to close (consumers handle ``user.logout``)."""
    if user is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user.pk), {"type": USER_LOGOUT})
    except Exception as exc:  # logging out must work even if the layer is down
        logger.warning("could not close sockets of user %s: %s", user.pk, exc)


def _tell_owner(owner_id: int) -> None:
    """Send ``watchlist.changed`` to every socket of ``owner_id`` once the change commits."""
    layer = get_channel_layer()
    if layer is None:
        return

    def send() -> None:
        try:
            async_to_sync(layer.group_send)(user_group(owner_id), {"type": WATCHLIST_CHANGED})
        except Exception as exc:  # sockets also re-read their list now and then
            logger.warning("could not notify sockets of user %s: %s", owner_id, exc)

    transaction.on_commit(send)


@receiver(post_save, sender=Watchlist)
@receiver(post_delete, sender=Watchlist)
def watchlist_changed(sender: Any, instance: Watchlist, **kwargs: Any) -> None:
    """A list was created, renamed, made the default or deleted."""
    _tell_owner(instance.owner_id)


@receiver(post_save, sender=WatchlistItem)
@receiver(post_delete, sender=WatchlistItem)
def watchlist_item_changed(sender: Any, instance: WatchlistItem, **kwargs: Any) -> None:
    """A symbol was added to or removed from a list (or moved)."""
    owner_id = (Watchlist.objects.filter(pk=instance.watchlist_id)
                .values_list("owner_id", flat=True).first())
    if owner_id is not None:
        _tell_owner(owner_id)
