"""REST: stored stress events, with the history page's filters and keyset pagination."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from pulse.api import cursor
from pulse.api.http_auth import api_view
from pulse.api.responses import error, form_errors
from pulse.api.serializers import event_json
from pulse.history.filters import EventFilterForm

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@api_view("GET")
def events(request: HttpRequest) -> JsonResponse:
    """Return one page of events, newest first, and the cursor of the next (older) page.

    Filters are the history page's (``symbol``, ``type``, ``asset_class``, ``severity``,
    ``date_from``, ``date_to``, ``mine``); ``cursor`` continues a previous page and stays
    correct while new events are recorded.
    """
    form = EventFilterForm(request.GET, user=request.api_user)
    if not form.is_valid():
        return error(400, "invalid_filters", form_errors(form))
    limit_text = request.GET.get("limit", str(DEFAULT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        return error(400, "invalid_limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    limit = int(limit_text)
    qs = form.queryset()
    if request.GET.get("cursor"):
        try:
            qs = qs.filter(cursor.decode(request.GET["cursor"]))
        except ValueError as exc:
            return error(400, "invalid_cursor", str(exc))
    rows = list(qs[: limit + 1])
    page, more = rows[:limit], len(rows) > limit
    next_cursor = cursor.encode(page[-1].ts, page[-1].pk) if more else None
    return JsonResponse({"results": [event_json(e) for e in page], "next_cursor": next_cursor})
