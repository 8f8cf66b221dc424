"""Watchlist pages: list, create, rename, delete, add/remove/reorder symbols, set active;
and the symbol autocomplete their forms use.

Every view looks the watchlist up among the requesting user's own lists first, so another
user's id is a 404 whatever the method; only then is the method checked (405). Writes are
POST forms with CSRF that redirect (post/redirect/get) and work without JavaScript.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from pulse.models import AssetClassMismatch, Instrument, Watchlist, WatchlistItem
from pulse.watchlists import operations as watchlists
from pulse.watchlists.forms import AddSymbolForm, WatchlistNameForm
from pulse.watchlists.quotas import QuotaExceeded

View = Callable[..., HttpResponse]

MAX_RESULTS = 20
MAX_QUERY = 48


def owned_watchlist(*methods: str) -> Callable[[View], View]:
    """Pass the user's own watchlist ``pk`` to the view (404 otherwise), then check methods."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
            watchlist = get_object_or_404(Watchlist, pk=pk, owner=request.user)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, watchlist, **kwargs)

        return wrapper

    return decorate


def _item(watchlist: Watchlist, item_id: int) -> WatchlistItem:
    return get_object_or_404(WatchlistItem, pk=item_id, watchlist=watchlist)


def _detail(request: HttpRequest, watchlist: Watchlist, status: int = 200,
            **forms: Any) -> HttpResponse:
    items = watchlist.items.select_related("instrument").order_by("position", "id")
    context = {
        "watchlist": watchlist,
        "items": items,
        "rename_form": forms.get("rename_form")
        or WatchlistNameForm(owner=request.user, initial={"name": watchlist.name}),
        "add_form": forms.get("add_form") or AddSymbolForm(watchlist=watchlist),
    }
    return render(request, "pulse/watchlists/detail.html", context, status=status)


def _index(request: HttpRequest, form: WatchlistNameForm | None = None,
           status: int = 200) -> HttpResponse:
    lists = watchlists.owned(request.user).prefetch_related("items__instrument")
    context = {"watchlists": lists, "create_form": form or WatchlistNameForm(owner=request.user)}
    return render(request, "pulse/watchlists/list.html", context, status=status)


@require_GET
def watchlist_list(request: HttpRequest) -> HttpResponse:
    """List the user's watchlists with a form to create one."""
    return _index(request)


@require_POST
def watchlist_create(request: HttpRequest) -> HttpResponse:
    """Create a watchlist (the first one becomes the active one) and open it.

    Over the user's quota of watchlists, the form shows why and nothing is created.
    """
    form = WatchlistNameForm(request.POST, owner=request.user)
    if not form.is_valid():
        return _index(request, form, status=400)
    try:
        watchlist = watchlists.create(request.user, form.cleaned_data["name"])
    except QuotaExceeded as exc:
        form.add_error(None, exc)
        return _index(request, form, status=400)
    messages.success(request, f"Created “{watchlist.name}”. Add some symbols.")
    return redirect(watchlist)


@owned_watchlist("GET")
def watchlist_detail(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Show one watchlist's symbols with the forms that edit it."""
    return _detail(request, watchlist)


@owned_watchlist("POST")
def watchlist_rename(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Rename the watchlist; a name the user already uses is a form error."""
    form = WatchlistNameForm(request.POST, owner=request.user, instance=watchlist)
    if not form.is_valid():
        return _detail(request, watchlist, status=400, rename_form=form)
    watchlists.rename(watchlist, form.cleaned_data["name"])
    messages.success(request, f"Renamed to “{watchlist.name}”.")
    return redirect(watchlist)


@owned_watchlist("GET", "POST")
def watchlist_delete(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Ask for confirmation (GET), then delete (POST); a deleted default is replaced."""
    if request.method == "GET":
        return render(request, "pulse/watchlists/confirm_delete.html", {"watchlist": watchlist})
    name = watchlist.name
    watchlists.delete(watchlist)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("watchlists")


@owned_watchlist("POST")
def watchlist_set_default(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Make this the user's active watchlist (the one the dashboard opens)."""
    watchlists.set_default(watchlist)
    messages.success(request, f"“{watchlist.name}” is now your active watchlist.")
    # The list page's button comes back to the list; the detail page's to the detail.
    return redirect("watchlists" if request.POST.get("next") == "list" else watchlist)


@owned_watchlist("POST")
def item_add(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Add a symbol (an existing instrument, or a new one of an explicit asset class).

    A full list, too many symbols new to Market Pulse today, or a known symbol with another
    asset class (also when created meanwhile by someone else) is a form error.
    """
    form = AddSymbolForm(request.POST, watchlist=watchlist)
    if not form.is_valid():
        return _detail(request, watchlist, status=400, add_form=form)
    try:
        item = watchlists.add_instrument(watchlist, form.instrument)
    except (QuotaExceeded, AssetClassMismatch) as exc:
        form.add_error(None, exc)
        return _detail(request, watchlist, status=400, add_form=form)
    messages.success(request, f"Added {item.instrument.symbol}.")
    return redirect(watchlist)


@owned_watchlist("POST")
def item_remove(request: HttpRequest, watchlist: Watchlist, item_id: int) -> HttpResponse:
    """Remove one symbol from the watchlist."""
    item = _item(watchlist, item_id)
    watchlists.remove_item(item)
    messages.success(request, f"Removed {item.instrument.symbol}.")
    return redirect(watchlist)


@owned_watchlist("POST")
def item_move(request: HttpRequest, watchlist: Watchlist, item_id: int) -> HttpResponse:
    """Move one symbol up or down (the no-JavaScript reorder)."""
    item = _item(watchlist, item_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest("direction must be up or down")
    watchlists.move_item(item, offset)
    return redirect(f"{watchlist.get_absolute_url()}#item-{item.pk}")


@owned_watchlist("POST")
def item_reorder(request: HttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Apply a complete new order (``order=id,id,...``) sent by drag or keyboard in JS."""
    try:
        order = [int(part) for part in request.POST.get("order", "").split(",") if part]
    except ValueError:
        order = []
    if not watchlists.reorder(watchlist, order):
        return JsonResponse({"error": "order must list each item of the watchlist once"},
                            status=400)
    return JsonResponse({"order": order})


@require_GET
def instrument_search(request: HttpRequest) -> JsonResponse:
    """Return up to 20 ``{"symbol", "asset_class", "display_name"}`` for ``?q=``.

    Symbols starting with the query come first, then symbols or names containing it.
    """
    query = request.GET.get("q", "").strip()
    if len(query) > MAX_QUERY:
        return JsonResponse({"error": f"q is longer than {MAX_QUERY} characters"}, status=400)
    instruments = Instrument.objects.filter(active=True)
    if query:
        # A "class:SYMBOL" query (the command-line form) searches the symbol part.
        query = query.rpartition(":")[2].strip()
        instruments = instruments.filter(
            Q(symbol__icontains=query) | Q(display_name__icontains=query)
        ).annotate(
            rank=Case(When(symbol__istartswith=query, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
        ).order_by("rank", "symbol", "asset_class")
    else:
        instruments = instruments.order_by("symbol", "asset_class")
    rows = instruments.values("symbol", "asset_class", "display_name")[:MAX_RESULTS]
    return JsonResponse(list(rows), safe=False)
