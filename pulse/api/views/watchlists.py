"""REST: the caller's watchlists (list, create, read, update, delete); never anyone else's.

Another user's watchlist id answers 404, exactly like an id that does not exist. A change
over one of the caller's quotas (``pulse.watchlists.quotas``) answers 400 ``quota_exceeded``
naming the limit, and writes nothing. A known symbol given with another asset class (or one
symbol with two classes) answers 400 ``asset_class_mismatch`` naming the class it has, and
writes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from pulse.api.http_auth import api_view
from pulse.api.responses import error
from pulse.api.serializers import watchlist_json
from pulse.api.watchlist_input import clean_name, resolve_symbols
from pulse.models import AssetClassMismatch, Watchlist
from pulse.watchlists import operations as watchlists
from pulse.watchlists import quotas

MAX_BODY = 64 * 1024


def _body(request: HttpRequest) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    if len(request.body) > MAX_BODY:
        return None, error(413, "body_too_large", f"at most {MAX_BODY} bytes")
    try:
        data = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return None, error(400, "invalid_json", "the body must be a JSON object")
    if not isinstance(data, dict):
        return None, error(400, "invalid_json", "the body must be a JSON object")
    unknown = sorted(set(data) - {"name", "symbols", "is_default"})
    if unknown:
        return None, error(400, "unknown_fields", unknown)
    return data, None


def _apply(watchlist: Watchlist, data: dict[str, Any], instruments: list | None) -> None:
    with transaction.atomic():
        if instruments is not None:
            watchlists.replace_instruments(watchlist, instruments)
        if data.get("is_default") is True:
            watchlists.set_default(watchlist)


def _refusal(exc: quotas.QuotaExceeded | AssetClassMismatch) -> HttpResponse:
    code = "quota_exceeded" if isinstance(exc, quotas.QuotaExceeded) else "asset_class_mismatch"
    return error(400, code, exc.detail())


def _validate(data: dict[str, Any], owner: Any, instance: Watchlist | None,
              ) -> tuple[str | None, list | None, HttpResponse | None]:
    name = None
    if "name" in data or instance is None:
        name, errors = clean_name(data.get("name"), owner, instance)
        if errors:
            return None, None, error(400, "invalid_name", errors)
    instruments = None
    if "symbols" in data:
        try:
            instruments, errors = resolve_symbols(data["symbols"], owner)
        except (quotas.QuotaExceeded, AssetClassMismatch) as exc:
            return None, None, _refusal(exc)
        if errors:
            return None, None, error(400, "invalid_symbols", errors)
    if "is_default" in data and not isinstance(data["is_default"], bool):
        return None, None, error(400, "invalid_is_default", "is_default must be a boolean")
    return name, instruments, None


@api_view("GET", "POST")
def watchlist_collection(request: HttpRequest) -> HttpResponse:
    """List the caller's watchlists (GET) or create one (POST ``{"name", "symbols"?}``)."""
    user = request.api_user
    if request.method == "GET":
        return JsonResponse({"results": [watchlist_json(w) for w in watchlists.owned(user)]})
    data, refused = _body(request)
    if refused:
        return refused
    name, instruments, refused = _validate(data, user, None)
    if refused:
        return refused
    try:
        with transaction.atomic():
            watchlist = watchlists.create(user, name)
            _apply(watchlist, data, instruments)
    except (quotas.QuotaExceeded, AssetClassMismatch) as exc:
        return _refusal(exc)
    watchlist.refresh_from_db()
    return JsonResponse(watchlist_json(watchlist), status=201)


@api_view("GET", "PATCH", "DELETE")
def watchlist_item(request: HttpRequest, pk: int) -> HttpResponse:
    """Read, update (``name``, ``symbols`` replacing the list, ``is_default``) or delete."""
    user = request.api_user
    watchlist = Watchlist.objects.filter(pk=pk, owner=user).first()
    if watchlist is None:
        return error(404, "watchlist_not_found", "no watchlist of yours has this id")
    if request.method == "GET":
        return JsonResponse(watchlist_json(watchlist))
    if request.method == "DELETE":
        watchlists.delete(watchlist)
        return HttpResponse(status=204)
    data, refused = _body(request)
    if refused:
        return refused
    name, instruments, refused = _validate(data, user, watchlist)
    if refused:
        return refused
    try:
        with transaction.atomic():
            if name is not None and name != watchlist.name:
                watchlists.rename(watchlist, name)
            _apply(watchlist, data, instruments)
    except (quotas.QuotaExceeded, AssetClassMismatch) as exc:
        return _refusal(exc)
    watchlist.refresh_from_db()
    return JsonResponse(watchlist_json(watchlist))
