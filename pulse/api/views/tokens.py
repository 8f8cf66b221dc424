"""Token management pages: list your tokens, create one (shown once), revoke one.

A new token is rendered in the response to the POST that created it, never stored in
clear, never put in a URL or a session message; that response is marked ``no-store``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from pulse.api import revocation, tokens
from pulse.api.forms import TokenCreateForm
from pulse.models import ApiToken


def _page(request: HttpRequest, form: TokenCreateForm, new_token: str | None = None,
          status: int = 200) -> HttpResponse:
    context = {"tokens": ApiToken.objects.filter(user=request.user), "form": form,
               "new_token": new_token}
    response = render(request, "pulse/api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    """List the user's tokens (never their secrets) with the form to create one."""
    return _page(request, TokenCreateForm())


@require_POST
@never_cache
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token and show it once in this response."""
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    _, raw = tokens.create(request.user, form.cleaned_data["name"], form.expires_at())
    return _page(request, TokenCreateForm(), new_token=raw, status=201)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's tokens (another user's id is a 404); close its sockets."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    revocation.revoke(token)
    messages.success(request, f"Revoked “{token.name}”.")
    return redirect("api_tokens")
