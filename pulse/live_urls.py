"""URLs of the live pages (symbol pages); included at the site root."""

from django.urls import path

from pulse import symbol_views

urlpatterns = [
    path("symbols/<str:asset>/<str:symbol>/", symbol_views.symbol_page, name="symbol"),
]
