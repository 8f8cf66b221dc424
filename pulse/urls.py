"""Page URLs of the pulse app."""

from django.urls import path

from pulse import health, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", health.health, name="health"),
    path("healthz", health.healthz, name="healthz"),
]
