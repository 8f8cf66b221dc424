"""JSON error responses of the REST API: ``{"error": code, "detail": ...}``."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error(status: int, code: str, detail: Any = None) -> JsonResponse:
    """Return the JSON error ``code`` (a short machine-readable word) with ``status``."""
    response = JsonResponse({"error": code, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="market-pulse"'
    return response


def form_errors(form: Any) -> dict[str, list[str]]:
    """Return a Django form's errors as ``{field: [messages]}`` for a 400 detail."""
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}
