"""Admin: instruments, watchlists scoped to their owner, read-only events.

A staff user who is not a superuser sees and edits only their own watchlists, and the owner
is set from the request, never chosen. Staff status alone opens nothing: such users need
model permissions, most simply membership of the "Watchlist editors" group (created by
migration 0003: add, change, delete and view watchlists and their items, view instruments
for the inline autocomplete, view events).

The owner's quotas (``pulse.watchlists.quotas``: watchlists per user, symbols per watchlist) are
checked in the form and the items formset, under the owner's lock, which the admin's
transaction holds until the save commits; a refusal is a validation error on the page.
Staff owners are exempt, so in practice this concerns a superuser editing an ordinary
user's lists.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

import pulse.alerts.admin  # registers alert rules, endpoints and deliveries
import pulse.api.admin  # noqa: F401  (registers API tokens)
from pulse.models import Event, Instrument, Watchlist, WatchlistItem
from pulse.watchlists import operations as watchlists
from pulse.watchlists import quotas


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    """Searchable (also serves the watchlist inline's autocomplete and its "+" popup).

    A symbol names one instrument: adding a known symbol with another class is refused by
    ``Instrument.clean`` with the class it has (``asset_class_mismatch``). Symbol and class
    are the instrument's identity, read-only once it exists: the engine's state, the
    recording, events and alert cooldowns are keyed by the symbol with that class, and
    changing it under a running ingest would mix two streams again (docs/instruments.md).
    """

    list_display = ["symbol", "asset_class", "display_name", "provider_symbol", "active",
                    "created_by", "created_at"]
    list_filter = ["asset_class", "active"]
    search_fields = ["symbol", "display_name", "provider_symbol"]
    ordering = ["symbol", "asset_class"]
    readonly_fields = ["created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is None else ["symbol", "asset_class", *fields]


class WatchlistItemFormSet(BaseInlineFormSet):
    """Refuse more symbols than the owner's per-watchlist quota allows, after this save."""

    owner_fallback: Any = None  # the requesting user, set by WatchlistItemInline.get_formset

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        owner = self.instance.owner_id or self.owner_fallback
        if owner is None:
            return
        with transaction.atomic():
            user = watchlists.lock_owner(owner)
            # Counted under the lock: items added meanwhile elsewhere count too.
            count = self.instance.items.count() if self.instance.pk else 0
            for form in self.forms:
                if not form.has_changed() and form.instance.pk is None:
                    continue  # an empty extra row
                deleting = self.can_delete and self._should_delete_form(form)
                if form.instance.pk is None and not deleting:
                    count += 1
                elif form.instance.pk is not None and deleting:
                    count -= 1
            quotas.check_symbols(user, count)  # QuotaExceeded: shown above the inline


class WatchlistItemInline(admin.TabularInline):
    """The watchlist's symbols in order; positions are renumbered 0..n-1 on save."""

    model = WatchlistItem
    formset = WatchlistItemFormSet
    extra = 1
    autocomplete_fields = ["instrument"]
    ordering = ["position", "id"]
    fields = ["instrument", "position"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.owner_fallback = request.user
        return formset


class WatchlistAdminForm(forms.ModelForm):
    """Check the per-owner unique name and quota here: the owner may not be a form field.

    The model's own checks of the two per-owner constraints are skipped: the name is checked
    in ``clean`` for every user alike, and ticking "default" is allowed because
    ``WatchlistAdmin.save_model`` clears the owner's other default in the same transaction.
    """

    owner_for_validation: Any = None  # set per request by WatchlistAdmin.get_form

    class Meta:
        model = Watchlist
        fields = ["owner", "name", "is_default"]

    def _get_validation_exclusions(self) -> set[str]:
        return {*super()._get_validation_exclusions(), "name", "is_default"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner = data.get("owner") or self.owner_for_validation or self.instance.owner_id
        name = data.get("name")
        if owner and name:
            taken = Watchlist.objects.filter(owner=owner, name__iexact=name)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("name", "This owner already has a watchlist with this name.")
        owner_id = getattr(owner, "pk", owner)
        # self.instance still has its saved owner here (the form's values come later).
        if owner_id and (self.instance.pk is None or owner_id != self.instance.owner_id):
            # A new list, or one given to another owner: one more for that owner.
            with transaction.atomic():
                try:
                    quotas.check_watchlists(watchlists.lock_owner(owner_id))
                except quotas.QuotaExceeded as exc:
                    self.add_error(None, exc)
        return data


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    """Staff who are not superusers see and edit only their own watchlists."""

    form = WatchlistAdminForm
    list_display = ["name", "owner", "is_default", "symbol_count", "updated_at"]
    list_filter = ["is_default"]
    inlines = [WatchlistItemInline]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Watchlist]:
        qs = super().get_queryset(request).annotate(symbols=Count("items"))
        return qs if request.user.is_superuser else qs.filter(owner=request.user)

    @admin.display(description="symbols", ordering="symbols")
    def symbol_count(self, obj: Watchlist) -> int:
        return obj.symbols

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if request.user.is_superuser:
            return self.list_display
        return [name for name in self.list_display if name != "owner"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["owner"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser:
            form.owner_for_validation = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Watchlist, form: Any, change: bool) -> None:
        with transaction.atomic():
            if not request.user.is_superuser:
                obj.owner = request.user  # never chosen, never another user's
            previous_owner = None
            if change:
                previous_owner = Watchlist.objects.filter(pk=obj.pk).values_list(
                    "owner_id", flat=True
                ).first()
            if obj.is_default:
                # One default per owner: ticking this one clears the others first.
                Watchlist.objects.filter(owner=obj.owner, is_default=True).exclude(
                    pk=obj.pk
                ).update(is_default=False)
            super().save_model(request, obj, form, change)
            watchlists.ensure_one_default(obj.owner)
            if previous_owner and previous_owner != obj.owner_id:
                watchlists.ensure_one_default(previous_owner)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any,
                     change: bool) -> None:
        super().save_related(request, form, formsets, change)
        watchlists.renumber(form.instance)

    def delete_model(self, request: HttpRequest, obj: Watchlist) -> None:
        watchlists.delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Watchlist]) -> None:
        with transaction.atomic():
            owners = set(queryset.values_list("owner_id", flat=True))
            super().delete_queryset(request, queryset)
            for owner in owners:
                watchlists.ensure_one_default(owner)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are the engine's record: searchable, never edited by hand."""

    list_display = ["ts", "symbol", "asset_class", "type", "direction", "severity", "message"]
    list_filter = ["type", "severity", "asset_class", "direction", "regime"]
    search_fields = ["symbol", "message", "event_id"]
    date_hierarchy = "ts"
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
