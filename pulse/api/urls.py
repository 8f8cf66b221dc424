"""HTTP routes of the API: token pages, the OpenAPI document, the REST endpoints."""

from django.urls import path

from pulse.api import openapi
from pulse.api.views import correlation, events, health, market, tokens, watchlists

urlpatterns = [
    path("api/tokens/", tokens.token_list, name="api_tokens"),
    path("api/tokens/new/", tokens.token_create, name="api_token_create"),
    path("api/tokens/<int:pk>/revoke/", tokens.token_revoke, name="api_token_revoke"),
    path("api/openapi.json", openapi.openapi_json, name="api_openapi"),
    path("api/v1/snapshots", market.snapshots, name="api_snapshots"),
    path("api/v1/symbols/<path:symbol>", market.symbol, name="api_symbol"),
    path("api/v1/correlation", correlation.correlation, name="api_correlation"),
    path("api/v1/events", events.events, name="api_events"),
    path("api/v1/watchlists", watchlists.watchlist_collection, name="api_watchlists"),
    path("api/v1/watchlists/<int:pk>", watchlists.watchlist_item, name="api_watchlist"),
    path("api/v1/health", health.health, name="api_health"),
]
