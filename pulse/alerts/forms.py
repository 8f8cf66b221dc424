"""Forms of the alert pages: rules and webhook endpoints, always scoped to their owner."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings

from pulse.alerts.targets import TargetRefused, check_target
from pulse.models import AlertRule, Watchlist, WebhookEndpoint

EVENT_TYPES = [("move_1m", "Move over 1 minute"), ("move_5m", "Move over 5 minutes"),
               ("vol_spike", "Volatility spike")]


class AlertRuleForm(forms.ModelForm):
    """Create or edit a rule; watchlists and endpoints offered are the owner's only."""

    event_types = forms.MultipleChoiceField(
        choices=EVENT_TYPES, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.")

    class Meta:
        model = AlertRule
        fields = ["name", "scope", "symbol", "watchlist", "asset_class", "event_types",
                  "min_severity", "min_abs_value", "min_abs_z", "mode", "cooldown_seconds",
                  "max_per_minute", "paused", "expires_at", "quiet_start", "quiet_end",
                  "timezone", "in_app", "sound", "browser_notification", "endpoints"]
        widgets = {
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
            "endpoints": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["watchlist"].queryset = Watchlist.objects.filter(owner=owner)
        self.fields["endpoints"].queryset = WebhookEndpoint.objects.filter(owner=owner)

    def clean_symbol(self) -> str:
        return self.cleaned_data["symbol"].strip().upper()

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip() or "UTC"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError("Unknown time zone (use e.g. Europe/Paris).") from None
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope = data.get("scope")
        needed = {AlertRule.Scope.SYMBOL: "symbol", AlertRule.Scope.WATCHLIST: "watchlist",
                  AlertRule.Scope.ASSET_CLASS: "asset_class"}.get(scope)
        if needed and not data.get(needed):
            self.add_error(needed, "Required for this scope.")
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", "Give both ends of the quiet hours, or neither.")
        for name in ("min_abs_value", "min_abs_z"):
            value = data.get(name)
            if value is not None and not value >= 0:
                self.add_error(name, "Must be zero or more.")
        if data.get("max_per_minute") == 0:
            self.add_error("max_per_minute", "At least 1.")
        return data

    def save(self, commit: bool = True) -> AlertRule:
        rule = super().save(commit=False)
        rule.owner = self.owner
        if commit:
            rule.save()
            self.save_m2m()
        return rule


class WebhookEndpointForm(forms.ModelForm):
    """Create or edit an endpoint; internal addresses are refused unless settings allow."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "active"]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_target(url, allow_private=getattr(settings, "PULSE_WEBHOOK_ALLOW_PRIVATE",
                                                    False))
        except TargetRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def save(self, commit: bool = True) -> WebhookEndpoint:
        endpoint = super().save(commit=False)
        endpoint.owner = self.owner
        if commit:
            endpoint.save()
        return endpoint
