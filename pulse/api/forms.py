"""The form that creates an API token: a name and an optional lifetime."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

LIFETIMES = [("", "Never expires"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"),
             ("365", "1 year")]


class TokenCreateForm(forms.Form):
    """Name a new token and choose when it expires."""

    name = forms.CharField(max_length=80, strip=True,
                           help_text="What will use it, e.g. “research notebook”.")
    lifetime = forms.ChoiceField(choices=LIFETIMES, required=False, label="Expires")

    def expires_at(self) -> dt.datetime | None:
        """Return the expiry chosen (call only when the form is valid)."""
        days = self.cleaned_data["lifetime"]
        return timezone.now() + dt.timedelta(days=int(days)) if days else None
