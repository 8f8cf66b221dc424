"""Page URLs of the pulse app."""

from django.urls import path

from pulse import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
