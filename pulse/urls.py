"""Page URLs of the pulse app.

Live pages (dashboard, symbol pages), library pages (watchlists, event history), alerts and
the programmatic API keep their routes in their own modules.
"""

from django.urls import include, path

from pulse import health, metrics_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", health.health, name="health"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("", include("pulse.live_urls")),
    path("", include("pulse.library_urls")),
    path("", include("pulse.alerts.urls")),
    path("", include("pulse.api.urls")),
]
