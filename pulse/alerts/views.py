"""Alert pages: rules (list, create, edit, pause/resume/re-arm, delete), webhook
endpoints, and the delivery log.

Every object is looked up among the requesting user's own first, so another user's id is
a 404 whatever the method. Writes are POST forms with CSRF (post/redirect/get).
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pulse.alerts.delivery_store import retry_now
from pulse.alerts.forms import AlertRuleForm, WebhookEndpointForm
from pulse.models import AlertDelivery, AlertRule, WebhookEndpoint


@require_GET
def alert_index(request: HttpRequest) -> HttpResponse:
    """List the user's rules and webhook endpoints."""
    rules = AlertRule.objects.filter(owner=request.user).select_related("watchlist")
    endpoints = WebhookEndpoint.objects.filter(owner=request.user)
    return render(request, "pulse/alerts/index.html", {"rules": rules, "endpoints": endpoints})


def _edit_owned(request: HttpRequest, model: type[Model], form_class: type[ModelForm],
                pk: int | None, template: str, name: str, label: str) -> HttpResponse:
    """Create (no ``pk``) or edit one of the user's ``model`` rows with ``form_class``.

    The row is looked up among the user's own (another user's id is a 404); a valid POST
    saves and redirects to the alert index, an invalid one re-renders with status 400.
    """
    obj = None if pk is None else get_object_or_404(model, pk=pk, owner=request.user)
    form = form_class(request.POST or None, instance=obj, owner=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"{label} “{saved.name}” saved.")
        return redirect("alerts")
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form, name: obj}, status=status)


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a rule (no ``pk``) or edit one of the user's rules."""
    return _edit_owned(request, AlertRule, AlertRuleForm, pk, "pulse/alerts/rule_form.html",
                       "rule", "Rule")


@require_POST
def rule_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause, resume, re-arm or delete one of the user's rules."""
    rule = get_object_or_404(AlertRule, pk=pk, owner=request.user)
    action = request.POST.get("action")
    if action == "delete":
        rule.delete()
        messages.success(request, f"Rule “{rule.name}” deleted.")
        return redirect("alerts")
    changes = {"pause": {"paused": True}, "resume": {"paused": False},
               "rearm": {"armed": True}}.get(action or "")
    if changes is None:
        return HttpResponse("unknown action", status=400)
    AlertRule.objects.filter(pk=rule.pk).update(**changes)
    messages.success(request, f"Rule “{rule.name}”: {action} done.")
    return redirect("alerts")


@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a webhook endpoint (no ``pk``) or edit one of the user's."""
    return _edit_owned(request, WebhookEndpoint, WebhookEndpointForm, pk,
                       "pulse/alerts/endpoint_form.html", "endpoint", "Endpoint")


@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's endpoints (its delivery log goes with it)."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, owner=request.user)
    endpoint.delete()
    messages.success(request, f"Endpoint “{endpoint.name}” deleted.")
    return redirect("alerts")


@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    """Show the user's deliveries, newest first, optionally filtered by state."""
    rows = AlertDelivery.objects.filter(owner=request.user).select_related("rule", "endpoint")
    state = request.GET.get("state", "")
    if state in AlertDelivery.State.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "pulse/alerts/deliveries.html",
                  {"page": page, "state": state, "states": AlertDelivery.State.choices})


@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue one of the user's failed deliveries again."""
    delivery = get_object_or_404(AlertDelivery, pk=pk, owner=request.user)
    if retry_now(delivery.pk, request.user.pk, time.time()):
        messages.success(request, "Delivery queued again.")
    else:
        messages.error(request, "Only failed webhook deliveries can be retried.")
    return redirect("alert_deliveries")
