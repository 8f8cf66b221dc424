"""Authentication of REST requests: a bearer token, or the session for safe methods.

Writes (POST, PATCH, PUT, DELETE) need a token: a token is never sent by the browser on
its own, so these views can be exempt from CSRF without a cross-site forgery risk. Reads
also accept the logged-in session, so a user can explore the API from the browser. Failure
is a 401 JSON answer, never a redirect to the login page.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from pulse.api import tokens
from pulse.api.responses import error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer(request: HttpRequest) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(request: HttpRequest) -> tuple[Any, str | None]:
    """Return ``(user, None)`` for an allowed request, else ``(None, reason)``."""
    raw = bearer(request)
    if raw is not None:
        token = tokens.authenticate(raw)
        if token is None:
            return None, "invalid, expired or revoked token"
        request.api_token = token
        return token.user, None
    user = getattr(request, "user", None)
    if request.method in SAFE_METHODS and user is not None and user.is_authenticated:
        return user, None
    if user is not None and user.is_authenticated:
        return None, "write requests need an API token (Authorization: Bearer <token>)"
    return None, "send an API token: Authorization: Bearer <token>"


def api_view(*methods: str) -> Callable:
    """Make a view (sync or async) an API endpoint: token auth, allowed methods, JSON errors.

    The view gets ``request.api_user`` set to the authenticated user.
    """

    def decorate(view: Callable) -> Callable:
        def check(request: HttpRequest) -> HttpResponse | None:
            if request.method not in methods:
                response = error(405, "method_not_allowed",
                                 f"allowed: {', '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            user, reason = authenticate(request)
            if user is None:
                return error(401, "unauthenticated", reason)
            request.api_user = user
            return None

        if inspect.iscoroutinefunction(view):
            @functools.wraps(view)
            async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                refused = await sync_to_async(check)(request)
                return refused or await view(request, *args, **kwargs)
        else:
            @functools.wraps(view)
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                return check(request) or view(request, *args, **kwargs)

        return login_not_required(csrf_exempt(never_cache(wrapper)))

    return decorate
