"""Admin for API tokens: create (the token is shown once), list, revoke; never edit secrets.

Imported by ``pulse/admin.py`` so the registration happens with the rest of the app's.
Staff who are not superusers see only their own tokens and create tokens only for
themselves.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pulse.api import revocation, tokens
from pulse.models import ApiToken


class ApiTokenAddForm(forms.ModelForm):
    """Name, owner and expiry of a new token; the secret is generated on save."""

    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by owner; the secret appears once, in a message after creation."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            if not request.user.is_superuser:
                kwargs["fields"] = ["name", "expires_at"]
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["user", "name", "expires_at"] if request.user.is_superuser else [
                "name", "expires_at"]
        return ["user", "name", "prefix", "created_at", "expires_at", "last_used_at",
                "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        owner = obj.user if request.user.is_superuser and obj.user_id else request.user
        token, raw = tokens.create(owner, obj.name, obj.expires_at)
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        messages.warning(request, f"New token for {owner.get_username()} (shown only "
                                  f"once, copy it now): {raw}")

    @admin.action(description="Revoke selected tokens (closes their sockets)")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            revocation.revoke(token)
        messages.success(request, "Revoked.")
