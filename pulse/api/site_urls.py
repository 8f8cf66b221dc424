"""The site's URLs plus the API's, for tests until ``pulse/urls.py`` includes the API."""

from django.urls import include, path

from pulse_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("", include("pulse.api.urls")), *site_urlpatterns]
