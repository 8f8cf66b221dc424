"""Event history: filtered, paginated list, CSV export of the same set, detail page.

Events are market data shared by every logged-in user; only the "only my watchlist" filter
depends on who asks, and it reads the asker's own active list.
"""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from pulse.history.csv_export import csv_response
from pulse.history.explanation import explanation_rows, recorded_fields
from pulse.history.filters import EventFilterForm, known_types
from pulse.models import Event

PAGE_SIZE = 50


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    """Render one page of the filtered history, newest first; bad filters are form errors."""
    form = EventFilterForm(request.GET, user=request.user)
    context = {"form": form, "types": known_types(), "page": None}
    if not form.is_valid():
        return render(request, "pulse/events/list.html", context, status=400)
    paginator = Paginator(form.queryset(), PAGE_SIZE)
    context["page"] = paginator.get_page(request.GET.get("page"))
    context["no_active_watchlist"] = form.no_active_watchlist
    return render(request, "pulse/events/list.html", context)


@require_GET
def event_export(request: HttpRequest) -> HttpResponse:
    """Stream the filtered history (same query string as the page) as a CSV attachment."""
    form = EventFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in form.errors.items())
        return HttpResponse(f"Invalid filters: {errors}\n", status=400,
                            content_type="text/plain; charset=utf-8")
    return csv_response(form.queryset(), timezone.now(),
                        asynchronous=isinstance(request, ASGIRequest))


@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one event with its full explanation."""
    event = get_object_or_404(Event, pk=pk)
    context = {
        "event": event,
        "rows": explanation_rows(event),
        "recorded": recorded_fields(event),
    }
    return render(request, "pulse/events/detail.html", context)
