"""Page URLs of the pulse app: each feature package keeps its routes in its own ``urls.py``.

``live``: dashboard and symbol pages; ``watchlists``: watchlist pages and the symbol
autocomplete; ``history``: the event history; ``alerts``: rules, endpoints and deliveries;
``api``: token pages, the OpenAPI document and the REST endpoints; ``ops``: health and metrics.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("pulse.live.urls")),
    path("", include("pulse.watchlists.urls")),
    path("", include("pulse.history.urls")),
    path("", include("pulse.alerts.urls")),
    path("", include("pulse.api.urls")),
    path("", include("pulse.ops.urls")),
]
