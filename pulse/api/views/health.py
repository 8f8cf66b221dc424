"""REST: feed health (the same report as ``/health/``)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from pulse.api.http_auth import api_view
from pulse.ops.health import ingest_report


@api_view("GET")
def health(request: HttpRequest) -> JsonResponse:
    """Return every ingest process's health with its age and an overall status."""
    return JsonResponse(ingest_report())
