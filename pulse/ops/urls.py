"""URLs of the operator endpoints: health details, the load balancer's probe, metrics."""

from django.urls import path

from pulse.ops import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
]
