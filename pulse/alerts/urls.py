"""URLs of the alert pages (include from ``pulse/urls.py``)."""

from django.urls import path

from pulse.alerts import views

urlpatterns = [
    path("alerts/", views.alert_index, name="alerts"),
    path("alerts/rules/new/", views.rule_edit, name="alert_rule_new"),
    path("alerts/rules/<int:pk>/", views.rule_edit, name="alert_rule_edit"),
    path("alerts/rules/<int:pk>/action/", views.rule_action, name="alert_rule_action"),
    path("alerts/endpoints/new/", views.endpoint_edit, name="alert_endpoint_new"),
    path("alerts/endpoints/<int:pk>/", views.endpoint_edit, name="alert_endpoint_edit"),
    path("alerts/endpoints/<int:pk>/delete/", views.endpoint_delete,
         name="alert_endpoint_delete"),
    path("alerts/deliveries/", views.delivery_log, name="alert_deliveries"),
    path("alerts/deliveries/<int:pk>/retry/", views.delivery_retry,
         name="alert_delivery_retry"),
]
