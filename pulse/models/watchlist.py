"""Per-user watchlists: an owned, ordered list of instruments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Watchlist(models.Model):
    """A named list of instruments owned by one user; one of them is the user's default."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists"
    )
    name = models.CharField(max_length=80)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    instruments = models.ManyToManyField(
        "pulse.Instrument", through="pulse.WatchlistItem", related_name="watchlists"
    )

    class Meta:
        ordering = ["owner_id", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="watchlist_unique_name",
                violation_error_message="You already have a watchlist with this name.",
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_default=True),
                name="watchlist_one_default_per_owner",
                violation_error_message="This owner already has a default watchlist.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("watchlist_detail", args=[self.pk])


class WatchlistItem(models.Model):
    """One instrument's place in a watchlist."""

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    instrument = models.ForeignKey("pulse.Instrument", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["watchlist_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "instrument"], name="watchlist_item_unique_instrument",
                violation_error_message="This symbol is already in the watchlist.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.watchlist}: {self.instrument.symbol}"
