"""URLs of the event history: the filtered list, its CSV export, one event's page."""

from django.urls import path

from pulse.history import views

urlpatterns = [
    path("events/", views.event_list, name="events"),
    path("events/export.csv", views.event_export, name="events_export"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
]
