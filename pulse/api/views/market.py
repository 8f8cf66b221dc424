"""REST: live snapshots (all, or one watchlist's) and one symbol's snapshot and history.

Live state lives in ingest; these async views ask for it over the channel layer (see
``pulse.api.ingest_requests``) and answer 503 when no ingest process replies.
"""

from __future__ import annotations

import re
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse

from pulse.api import ingest_requests
from pulse.api.http_auth import api_view
from pulse.api.responses import error
from pulse.models import Watchlist

_SYMBOL = re.compile(r"^[A-Za-z0-9._/-]{1,32}$")
UNAVAILABLE = "no ingest process answered: is runpulse running?"


def _watchlist_symbols(user: Any, watchlist_id: str) -> list[str] | None:
    """Return the symbols of ``user``'s watchlist ``watchlist_id``; None if not theirs."""
    if not watchlist_id.isdigit():
        return None
    watchlist = Watchlist.objects.filter(owner=user, pk=int(watchlist_id)).first()
    if watchlist is None:
        return None
    return list(watchlist.items.order_by("position", "id")
                .values_list("instrument__symbol", flat=True))


async def requested_symbols(request: HttpRequest) -> list[str] | JsonResponse | None:
    """Return the symbols of the request's ``watchlist`` parameter (one of the caller's),
    None when it has none (every symbol), or the 404 response for a watchlist not theirs.
    """
    watchlist_id = request.GET.get("watchlist")
    if watchlist_id is None:
        return None
    symbols = await sync_to_async(_watchlist_symbols)(request.api_user, watchlist_id)
    if symbols is None:
        return error(404, "watchlist_not_found", "no watchlist of yours has this id")
    return symbols


@api_view("GET")
async def snapshots(request: HttpRequest) -> JsonResponse:
    """Return the current snapshot rows of every symbol, or of one owned watchlist."""
    symbols = await requested_symbols(request)
    if isinstance(symbols, JsonResponse):
        return symbols
    try:
        state = await ingest_requests.snapshots()
    except ingest_requests.IngestUnavailable:
        return error(503, "ingest_unavailable", UNAVAILABLE)
    rows = state["rows"]
    order = sorted(rows) if symbols is None else [s for s in symbols if s in rows]
    return JsonResponse({"seq": state["seq"], "ts": state["ts"],
                         "rows": [rows[s] for s in order]})


@api_view("GET")
async def symbol(request: HttpRequest, symbol: str) -> JsonResponse:
    """Return one symbol's snapshot row and its recent price history.

    ``seconds`` (default 900, at most 3600) and ``step`` (default 15, 1 to 600) shape the
    history like the symbol page's chart.
    """
    symbol = symbol.upper()
    if not _SYMBOL.match(symbol):
        return error(400, "invalid_symbol", "symbols use letters, digits and . _ / - only")
    try:
        seconds = float(request.GET.get("seconds", 900))
        step = float(request.GET.get("step", 15))
    except ValueError:
        return error(400, "invalid_history", "seconds and step must be numbers")
    if not (1 <= step <= 600 and step <= seconds <= 3600):
        return error(400, "invalid_history", "need 1 <= step <= 600 and step <= seconds <= 3600")
    try:
        state = await ingest_requests.snapshots()
        row = state["rows"].get(symbol)
        if row is None:
            return error(404, "symbol_not_found", f"ingest does not follow {symbol}")
        history = await ingest_requests.history([symbol], seconds, step)
    except ingest_requests.IngestUnavailable:
        return error(503, "ingest_unavailable", UNAVAILABLE)
    return JsonResponse({"symbol": symbol, "seq": state["seq"], "snapshot": row,
                         "history": {"seconds": history["seconds"], "step": history["step"],
                                     "points": history["series"].get(symbol, [])}})
