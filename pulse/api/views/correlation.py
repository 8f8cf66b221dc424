"""REST: the live correlation matrix of one watchlist (or of every followed symbol).

The same answer a dashboard gets over its socket (docs/websocket.md, ``correlation``):
every pair's value in [-1, 1] with its coverage, status and standard error, and the top
symbols against ``base``. Computed by ingest (asked over the channel layer); 503 when no
ingest process replies.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from pulse.api import ingest_requests
from pulse.api.http_auth import api_view
from pulse.api.responses import error
from pulse.api.views.market import UNAVAILABLE, requested_symbols
from pulse.ingest.page_queries import BUCKETS


@api_view("GET")
async def correlation(request: HttpRequest) -> JsonResponse:
    """Return the correlation matrix of ``watchlist`` (one of yours; default: every symbol
    ingest follows), against ``base``, with ``bucket`` 10/20/30 for the bucketed method."""
    symbols = await requested_symbols(request)
    if isinstance(symbols, JsonResponse):
        return symbols
    base = request.GET.get("base") or None
    bucket = request.GET.get("bucket")
    if bucket is not None:
        if not bucket.isdigit() or int(bucket) not in BUCKETS:
            return error(400, "invalid_bucket", "bucket must be 10, 20 or 30")
        bucket = int(bucket)
    try:
        corr = await ingest_requests.correlation(symbols, base, bucket)
    except ingest_requests.IngestUnavailable:
        return error(503, "ingest_unavailable", UNAVAILABLE)
    return JsonResponse(corr)
