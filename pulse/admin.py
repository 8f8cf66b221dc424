"""Admin: instruments, watchlists scoped to their owner, read-only events."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from pulse.models import Event, Instrument, Watchlist, WatchlistItem


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["symbol", "asset_class", "display_name", "provider_symbol", "active"]
    list_filter = ["asset_class", "active"]
    search_fields = ["symbol", "display_name", "provider_symbol"]


class WatchlistItemInline(admin.TabularInline):
    model = WatchlistItem
    extra = 1
    autocomplete_fields = ["instrument"]
    ordering = ["position", "id"]


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    """Staff who are not superusers see and edit only their own watchlists."""

    list_display = ["name", "owner", "is_default", "updated_at"]
    inlines = [WatchlistItemInline]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Watchlist]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(owner=request.user)

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if request.user.is_superuser:
            return self.list_display
        return [name for name in self.list_display if name != "owner"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["owner"]

    def save_model(self, request: HttpRequest, obj: Watchlist, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            obj.owner = request.user  # never chosen, never another user's
        super().save_model(request, obj, form, change)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are the engine's record: searchable, never edited by hand."""

    list_display = ["ts", "symbol", "asset_class", "type", "direction", "severity", "message"]
    list_filter = ["type", "severity", "asset_class"]
    search_fields = ["symbol", "message"]
    date_hierarchy = "ts"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
