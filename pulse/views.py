"""Page views. Every view requires a login (LoginRequiredMiddleware)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pulse.models import Watchlist


def dashboard(request: HttpRequest) -> HttpResponse:
    """Render the live pulse dashboard for the user's default (or chosen) watchlist."""
    watchlists = list(Watchlist.objects.filter(owner=request.user).order_by("-is_default", "name"))
    return render(request, "pulse/dashboard.html", {"watchlists": watchlists})
