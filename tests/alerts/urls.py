"""Test URLconf: the site plus the alert pages and admin (until pulse/urls.py includes them)."""

from django.contrib import admin
from django.urls import include, path

import pulse.alerts.admin  # noqa: F401  (registers the alert models)
from pulse_site import urls as site_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("pulse.alerts.urls")),
    *site_urls.urlpatterns[1:],
]
