"""HTTP routes of the API: token pages, the OpenAPI document, the REST endpoints."""

from django.urls import path

from pulse.api import (
    openapi,
    token_views,
    views_correlation,
    views_events,
    views_health,
    views_market,
    views_watchlists,
)

urlpatterns = [
    path("api/tokens/", token_views.token_list, name="api_tokens"),
    path("api/tokens/new/", token_views.token_create, name="api_token_create"),
    path("api/tokens/<int:pk>/revoke/", token_views.token_revoke, name="api_token_revoke"),
    path("api/openapi.json", openapi.openapi_json, name="api_openapi"),
    path("api/v1/snapshots", views_market.snapshots, name="api_snapshots"),
    path("api/v1/symbols/<path:symbol>", views_market.symbol, name="api_symbol"),
    path("api/v1/correlation", views_correlation.correlation, name="api_correlation"),
    path("api/v1/events", views_events.events, name="api_events"),
    path("api/v1/watchlists", views_watchlists.watchlist_collection, name="api_watchlists"),
    path("api/v1/watchlists/<int:pk>", views_watchlists.watchlist_item, name="api_watchlist"),
    path("api/v1/health", views_health.health, name="api_health"),
]
