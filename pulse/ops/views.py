"""Operator endpoints: ``/health/`` (details, login required), ``/healthz`` (probe, public)
and ``/metrics``, this web (ASGI) process's Prometheus metrics.

The page holds no user data (client counts, messages sent, process CPU and memory), but it
does reveal load and versions, so it is open only to addresses in ``PULSE_METRICS_ALLOW``
(default: loopback, where a local Prometheus or node agent scrapes each daphne process
directly) unless ``PULSE_METRICS_PUBLIC`` is on. A logged-in staff user may always look.
The reverse proxy must not forward ``/metrics`` (see deploy/nginx.conf): behind it every
request would come from the proxy's loopback address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from pulse.ops.health import ingest_report


def client_allowed(address: str, allow: list[str]) -> bool:
    """Return True if ``address`` lies in one of the ``allow`` networks (``10.0.0.0/8``, IPs)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for item in allow:
        try:
            if ip in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False


@login_not_required
@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Return the default registry in the Prometheus text format, if the caller may see it."""
    user = getattr(request, "user", None)
    allowed = (
        settings.PULSE_METRICS_PUBLIC
        or client_allowed(request.META.get("REMOTE_ADDR", ""), settings.PULSE_METRICS_ALLOW)
        or (user is not None and user.is_authenticated and user.is_staff)
    )
    if not allowed:
        return HttpResponseForbidden("metrics are not public here\n", content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Return feed health, engine counters and ingest liveness as JSON."""
    return JsonResponse(ingest_report())


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a load balancer's probe: 200 if this web process can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database_unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
