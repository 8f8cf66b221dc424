"""Admin of alert rules, webhook endpoints and the delivery log, scoped to the owner.

Like ``WatchlistAdmin``: a staff user who is not a superuser sees and edits only their own
objects, the owner is set from the request and never chosen, and the watchlists and
endpoints a rule may point at are the rule owner's only. Import this module from
``pulse/admin.py`` to register it.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from pulse.alerts.delivery_store import retry_now
from pulse.models import AlertDelivery, AlertRule, Watchlist, WebhookEndpoint


class OwnedAdmin(admin.ModelAdmin):
    """Scope the changelist to the user's own rows unless superuser; set the owner."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(owner=request.user)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["owner"]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        names = list(super().get_list_display(request))
        return names if request.user.is_superuser else [n for n in names if n != "owner"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            obj.owner = request.user  # never chosen, never another user's
        super().save_model(request, obj, form, change)


class AlertRuleAdminForm(forms.ModelForm):
    """Refuse a watchlist or endpoint that belongs to someone other than the rule's owner."""

    owner_for_validation: Any = None  # set per request for staff who are not superusers

    class Meta:
        model = AlertRule
        fields = ["owner", "name", "scope", "symbol", "watchlist", "asset_class",
                  "event_types", "min_severity", "min_abs_value", "min_abs_z", "mode",
                  "cooldown_seconds", "armed", "paused", "expires_at", "quiet_start",
                  "quiet_end", "timezone", "in_app", "sound", "browser_notification",
                  "endpoints", "max_per_minute"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner = self.owner_for_validation or data.get("owner") or getattr(
            self.instance, "owner", None)
        owner_id = getattr(owner, "pk", owner)
        watchlist = data.get("watchlist")
        if watchlist is not None and watchlist.owner_id != owner_id:
            self.add_error("watchlist", "This watchlist belongs to another user.")
        if any(e.owner_id != owner_id for e in data.get("endpoints") or ()):
            self.add_error("endpoints", "An endpoint belongs to another user.")
        return data


class WebhookEndpointAdminForm(forms.ModelForm):
    """An endpoint; URLs without a scheme are read as https."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "name", "url", "secret", "active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OwnedAdmin):
    """Endpoints with their signing secret (private targets are refused at send time)."""

    form = WebhookEndpointAdminForm
    list_display = ["name", "owner", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]


@admin.register(AlertRule)
class AlertRuleAdmin(OwnedAdmin):
    """Rules; pause, resume and re-arm as bulk actions."""

    form = AlertRuleAdminForm
    list_display = ["name", "owner", "scope", "mode", "paused", "armed", "last_fired_at",
                    "throttled_at"]
    list_filter = ["scope", "mode", "paused", "armed"]
    search_fields = ["name", "symbol"]
    readonly_fields = ["last_fired_at", "throttled_at", "throttled_count"]
    actions = ["pause", "resume", "rearm"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change, **kwargs)
        form.owner_for_validation = None if request.user.is_superuser else request.user
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "watchlist" and not request.user.is_superuser:
            kwargs["queryset"] = Watchlist.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "endpoints" and not request.user.is_superuser:
            kwargs["queryset"] = WebhookEndpoint.objects.filter(owner=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.action(description="Pause selected rules")
    def pause(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(paused=True)

    @admin.action(description="Resume selected rules")
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(paused=False)

    @admin.action(description="Re-arm selected once-mode rules")
    def rearm(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(armed=True)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(OwnedAdmin):
    """The delivery log: read-only; failed deliveries can be queued again."""

    list_display = ["created_at", "owner", "rule", "endpoint", "event_id", "state", "attempts",
                    "last_status", "last_error"]
    list_filter = ["state"]
    search_fields = ["event_id", "last_error"]
    actions = ["retry"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry selected failed deliveries")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        now = time.time()
        for row in queryset.filter(state=AlertDelivery.State.FAILED):
            retry_now(row.pk, row.owner_id, now)
