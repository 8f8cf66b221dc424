"""URLs of the watchlist pages and the symbol autocomplete."""

from django.urls import path

from pulse.watchlists import views

urlpatterns = [
    path("watchlists/", views.watchlist_list, name="watchlists"),
    path("watchlists/new/", views.watchlist_create, name="watchlist_create"),
    path("watchlists/<int:pk>/", views.watchlist_detail, name="watchlist_detail"),
    path("watchlists/<int:pk>/rename/", views.watchlist_rename, name="watchlist_rename"),
    path("watchlists/<int:pk>/delete/", views.watchlist_delete, name="watchlist_delete"),
    path("watchlists/<int:pk>/activate/", views.watchlist_set_default,
         name="watchlist_set_default"),
    path("watchlists/<int:pk>/items/add/", views.item_add, name="watchlist_item_add"),
    path("watchlists/<int:pk>/items/reorder/", views.item_reorder,
         name="watchlist_item_reorder"),
    path("watchlists/<int:pk>/items/<int:item_id>/remove/", views.item_remove,
         name="watchlist_item_remove"),
    path("watchlists/<int:pk>/items/<int:item_id>/move/", views.item_move,
         name="watchlist_item_move"),
    path("instruments/search", views.instrument_search, name="instrument_search"),
]
