"""URLs of the live pages: the dashboard and the symbol pages."""

from django.urls import path

from pulse.live import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("symbols/<str:asset>/<str:symbol>/", views.symbol_page, name="symbol"),
]
