"""URLs of the library pages (watchlists, event history) and the symbol autocomplete."""

from django.urls import path

from pulse.library import history_views, instrument_views, watchlist_views

urlpatterns = [
    path("watchlists/", watchlist_views.watchlist_list, name="watchlists"),
    path("watchlists/new/", watchlist_views.watchlist_create, name="watchlist_create"),
    path("watchlists/<int:pk>/", watchlist_views.watchlist_detail, name="watchlist_detail"),
    path("watchlists/<int:pk>/rename/", watchlist_views.watchlist_rename,
         name="watchlist_rename"),
    path("watchlists/<int:pk>/delete/", watchlist_views.watchlist_delete,
         name="watchlist_delete"),
    path("watchlists/<int:pk>/activate/", watchlist_views.watchlist_set_default,
         name="watchlist_set_default"),
    path("watchlists/<int:pk>/items/add/", watchlist_views.item_add, name="watchlist_item_add"),
    path("watchlists/<int:pk>/items/reorder/", watchlist_views.item_reorder,
         name="watchlist_item_reorder"),
    path("watchlists/<int:pk>/items/<int:item_id>/remove/", watchlist_views.item_remove,
         name="watchlist_item_remove"),
    path("watchlists/<int:pk>/items/<int:item_id>/move/", watchlist_views.item_move,
         name="watchlist_item_move"),
    path("instruments/search", instrument_views.instrument_search, name="instrument_search"),
    path("events/", history_views.event_list, name="events"),
    path("events/export.csv", history_views.event_export, name="events_export"),
    path("events/<int:pk>/", history_views.event_detail, name="event_detail"),
]
