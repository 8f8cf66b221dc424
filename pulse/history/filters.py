"""The event history filters: one GET form whose query string is the shareable view.

``EventFilterForm.queryset()`` is used by both the history page and the CSV export, so the
export is exactly the filtered set the user is looking at.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet

from pulse.engine.config import EngineConfig, horizon_label
from pulse.engine.events import MOVE_PREFIX, VOL_SPIKE
from pulse.models import AssetClass, Event, Instrument

UTC = dt.UTC
_SYMBOL = re.compile(r"^[A-Za-z0-9._/-]{1,32}$")  # the characters SymbolRef.parse accepts
_TYPE = re.compile(r"^[a-z0-9_]{1,32}$")
MIN_YEAR, MAX_YEAR = 1970, 2200  # also keeps "end of day" arithmetic far from overflow
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


class UTCMomentField(forms.Field):
    """A date (``2026-11-23``) or a datetime (``2026-11-23T20:57[:00]``), read as UTC.

    Cleans to ``(datetime, date_only)`` so a date-only upper bound can cover the whole day.
    """

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "placeholder": "YYYY-MM-DD",
                "title": "UTC date, or date and time: 2026-11-23 or 2026-11-23T20:57",
                "maxlength": "25"}

    def to_python(self, value: Any) -> tuple[dt.datetime, bool] | None:
        text = str(value or "").strip().removesuffix("Z")
        if not text:
            return None
        moment = _parse_moment(text[:26])
        if moment is None or not MIN_YEAR <= moment[0].year <= MAX_YEAR:
            raise forms.ValidationError(
                "Enter a UTC date (2026-11-23) or date and time (2026-11-23T20:57) "
                "between %(min)s and %(max)s.",
                params={"min": MIN_YEAR, "max": MAX_YEAR}, code="invalid",
            )
        return moment


def _parse_moment(text: str) -> tuple[dt.datetime, bool] | None:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return dt.datetime.combine(day, dt.time(), tzinfo=UTC), True
    for fmt in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=UTC), False
        except ValueError:
            continue
    return None


class EventFilterForm(forms.Form):
    """Validate the history filters; every field is optional and lives in the query string."""

    symbol = forms.CharField(required=False, max_length=32, strip=True)
    type = forms.CharField(required=False, max_length=32, strip=True)
    asset_class = forms.ChoiceField(
        required=False, choices=[("", "All classes"), *AssetClass.choices]
    )
    severity = forms.ChoiceField(
        required=False, choices=[("", "All severities"), *Event.Severity.choices]
    )
    date_from = UTCMomentField(label="From (UTC)")
    date_to = UTCMomentField(label="To (UTC)")
    mine = forms.BooleanField(required=False, label="Only my watchlist")

    def __init__(self, data: Any = None, *, user, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        self.no_active_watchlist = False

    def clean_symbol(self) -> str:
        symbol = self.cleaned_data["symbol"]
        if symbol and not _SYMBOL.match(symbol):
            raise forms.ValidationError(
                "Symbols use letters, digits and . _ / - only.", code="invalid"
            )
        return symbol.upper()

    def clean_type(self) -> str:
        value = self.cleaned_data["type"].lower()
        if value and not _TYPE.match(value):
            raise forms.ValidationError(
                "Event types look like move_1m or vol_spike.", code="invalid"
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), self._end(data.get("date_to"))
        if start and end and start[0] >= end[1]:
            self.add_error("date_to", "The end must be after the start.")
        return data

    @staticmethod
    def _end(value: tuple[dt.datetime, bool] | None) -> tuple[str, dt.datetime] | None:
        # A date-only end means the whole day: strictly before the next midnight.
        if value is None:
            return None
        moment, date_only = value
        return ("lt", moment + dt.timedelta(days=1)) if date_only else ("lte", moment)

    def queryset(self) -> QuerySet[Event]:
        """Return the filtered events, newest first (call only when the form is valid)."""
        data = self.cleaned_data
        qs = Event.objects.all()
        if data["symbol"]:
            qs = qs.filter(symbol=data["symbol"])
        if data["type"]:
            qs = qs.filter(type=data["type"])
        if data["asset_class"]:
            qs = qs.filter(asset_class=data["asset_class"])
        if data["severity"]:
            qs = qs.filter(severity=data["severity"])
        if data["date_from"]:
            qs = qs.filter(ts__gte=data["date_from"][0])
        end = self._end(data["date_to"])
        if end:
            qs = qs.filter(**{f"ts__{end[0]}": end[1]})
        if data["mine"]:
            qs = qs.filter(self._watchlist_q())
        return qs.order_by("-ts", "-id")

    def _watchlist_q(self) -> Q:
        # Symbols of this user's active (default) watchlist, matched with their class.
        pairs = Instrument.objects.filter(
            watchlists__owner=self.user, watchlists__is_default=True
        ).values_list("asset_class", "symbol")
        by_class: dict[str, list[str]] = {}
        for asset, symbol in pairs:
            by_class.setdefault(asset, []).append(symbol)
        if not by_class:
            self.no_active_watchlist = True
            return Q(pk__in=[])
        query = Q()
        for asset, symbols in by_class.items():
            query |= Q(asset_class=asset, symbol__in=symbols)
        return query


def known_types() -> list[str]:
    """Return the event types the engine's configuration can emit (suggestions for the form)."""
    try:
        config = EngineConfig.from_mapping(getattr(settings, "PULSE_ENGINE", None))
    except (TypeError, ValueError):
        config = EngineConfig()
    return [MOVE_PREFIX + horizon_label(h) for h in config.move_horizons] + [VOL_SPIKE]
