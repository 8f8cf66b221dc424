"""The symbol autocomplete: active instruments matching what the user typed, as JSON."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from pulse.models import Instrument

MAX_RESULTS = 20
MAX_QUERY = 48


@require_GET
def instrument_search(request: HttpRequest) -> JsonResponse:
    """Return up to 20 ``{"symbol", "asset_class", "display_name"}`` for ``?q=``.

    Symbols starting with the query come first, then symbols or names containing it.
    """
    query = request.GET.get("q", "").strip()
    if len(query) > MAX_QUERY:
        return JsonResponse({"error": f"q is longer than {MAX_QUERY} characters"}, status=400)
    instruments = Instrument.objects.filter(active=True)
    if query:
        # A "class:SYMBOL" query (the command-line form) searches the symbol part.
        query = query.rpartition(":")[2].strip()
        instruments = instruments.filter(
            Q(symbol__icontains=query) | Q(display_name__icontains=query)
        ).annotate(
            rank=Case(When(symbol__istartswith=query, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
        ).order_by("rank", "symbol", "asset_class")
    else:
        instruments = instruments.order_by("symbol", "asset_class")
    rows = instruments.values("symbol", "asset_class", "display_name")[:MAX_RESULTS]
    return JsonResponse(list(rows), safe=False)
