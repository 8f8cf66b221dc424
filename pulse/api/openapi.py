"""The OpenAPI 3.1 description of the REST API, served at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from pulse.api.http_auth import api_view


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


_STR = {"type": "string"}
_ROWS = {"type": "array", "items": {"$ref": "#/components/schemas/SnapshotRow"}}
_COMMON = {"401": _error("Missing, invalid, expired or revoked token")}
_WATCHLIST_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_WATCHLIST_400 = _error("Invalid name or symbols (invalid_name, invalid_symbols, ...), a "
                        "per-user quota reached (quota_exceeded, detail.limit names it), or a "
                        "known symbol given with another asset class, or one symbol with two "
                        "classes (asset_class_mismatch; detail: symbol, asset_class it has, "
                        "requested, message)")
_WATCHLIST_BODY = {"content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/WatchlistInput"}}}}


# A symmetric matrix of numbers or nulls (correlation values, standard errors).
_GRID_NUM = {"type": "array", "items": {"type": "array", "items": {
    "type": ["number", "null"]}}}


def spec() -> dict[str, Any]:
    """Return the OpenAPI document (a plain dict, kept next to the views it describes)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Market Pulse API", "version": "1",
                 "description": "Live snapshots, stress events, watchlists and feed health. "
                                "The streaming WebSocket API (/ws/api/) is in docs/api.md."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/snapshots": {"get": {
                "summary": "Current snapshot rows of every symbol, or of one watchlist",
                "parameters": [_query("watchlist", {"type": "integer"},
                                      "one of your watchlists")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "seq": {"type": "integer"}, "ts": {"type": ["number", "null"]},
                    "rows": _ROWS}}), **_COMMON,
                    "404": _error("Not your watchlist"), "503": _error("Ingest not running")}}},
            "/api/v1/symbols/{symbol}": {"get": {
                "summary": "One symbol's snapshot and recent price history",
                "parameters": [
                    {"name": "symbol", "in": "path", "required": True, "schema": _STR},
                    _query("seconds", {"type": "number", "default": 900, "maximum": 3600},
                           "history length"),
                    _query("step", {"type": "number", "default": 15, "minimum": 1,
                                    "maximum": 600}, "seconds per point")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "symbol": _STR, "seq": {"type": "integer"},
                    "snapshot": {"$ref": "#/components/schemas/SnapshotRow"},
                    "history": {"type": "object", "properties": {
                        "seconds": {"type": "number"}, "step": {"type": "number"},
                        "points": {"type": "array", "items": {
                            "type": "array", "prefixItems": [{"type": "number"},
                                                             {"type": "number"}]}}}}}}),
                    **_COMMON, "400": _error("Bad symbol or history parameters"),
                    "404": _error("Symbol not followed by ingest"),
                    "503": _error("Ingest not running")}}},
            "/api/v1/correlation": {"get": {
                "summary": "Live correlation matrix of one watchlist (or every followed "
                           "symbol): values in [-1, 1], coverage, status and standard error "
                           "per pair, top symbols against base",
                "parameters": [
                    _query("watchlist", {"type": "integer"}, "one of your watchlists"),
                    _query("base", _STR, "symbol the top list is ranked against"),
                    _query("bucket", {"enum": [10, 20, 30]},
                           "bucketed estimator with this bucket (seconds)")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "symbols": {"type": "array", "items": _STR},
                    "matrix": _GRID_NUM, "stderr": _GRID_NUM,
                    "coverage": {"type": "array", "items": {"type": "array", "items": {
                        "type": "integer"}}},
                    "status": {"type": "array", "items": {"type": "array", "items": {
                        "enum": ["ok", "insufficient_overlap", "flat", "unknown_symbol",
                                 "out_of_range"]}}},
                    "method": _STR, "window": {"type": "number"},
                    "horizon": {"type": "number"}, "delay": {"type": "number"},
                    "as_of": {"type": "number"}, "base": {"type": ["string", "null"]},
                    "top": {"type": "array", "items": {"type": "object", "properties": {
                        "symbol": _STR, "corr": {"type": "number"},
                        "coverage": {"type": "integer"},
                        "stderr": {"type": ["number", "null"]}}}}}}),
                    **_COMMON, "400": _error("Bad bucket"),
                    "404": _error("Not your watchlist"), "503": _error("Ingest not running")}}},
            "/api/v1/events": {"get": {
                "summary": "Stored stress events, newest first, cursor-paginated",
                "parameters": [
                    _query("symbol", _STR, "exact symbol"),
                    _query("type", _STR, "move_1m, vol_spike, ..."),
                    _query("asset_class", {"enum": ["stocks", "forex", "crypto"]}, ""),
                    _query("severity", {"enum": ["info", "warning", "critical"]}, ""),
                    _query("date_from", _STR, "UTC date or datetime (inclusive)"),
                    _query("date_to", _STR, "UTC date (whole day) or datetime"),
                    _query("mine", {"type": "boolean"}, "only your active watchlist"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200,
                                     "default": 50}, "page size"),
                    _query("cursor", _STR, "next_cursor of the previous page")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "results": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Event"}},
                    "next_cursor": {"type": ["string", "null"]}}}),
                    **_COMMON, "400": _error("Invalid filters, limit or cursor")}}},
            "/api/v1/watchlists": {
                "get": {"summary": "Your watchlists", "responses": {"200": _ok({
                    "type": "object", "properties": {"results": {"type": "array", "items": {
                        "$ref": "#/components/schemas/Watchlist"}}}}), **_COMMON}},
                "post": {"summary": "Create a watchlist (token required)",
                         "requestBody": _WATCHLIST_BODY,
                         "responses": {"201": _ok({"$ref": "#/components/schemas/Watchlist"},
                                                  "Created"),
                                       **_COMMON, "400": _WATCHLIST_400}}},
            "/api/v1/watchlists/{id}": {
                "parameters": [_WATCHLIST_ID],
                "get": {"summary": "One of your watchlists", "responses": {
                    "200": _ok({"$ref": "#/components/schemas/Watchlist"}), **_COMMON,
                    "404": _error("Not found (or not yours)")}},
                "patch": {"summary": "Rename, replace symbols, make active (token required)",
                          "requestBody": _WATCHLIST_BODY, "responses": {
                              "200": _ok({"$ref": "#/components/schemas/Watchlist"}),
                              **_COMMON, "400": _WATCHLIST_400,
                              "404": _error("Not found (or not yours)")}},
                "delete": {"summary": "Delete (token required)", "responses": {
                    "204": {"description": "Deleted"}, **_COMMON,
                    "404": _error("Not found (or not yours)")}}},
            "/api/v1/health": {"get": {"summary": "Feed and ingest health", "responses": {
                "200": _ok({"type": "object"}), **_COMMON}}},
        },
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token (mp_...) created on /api/tokens/. Reads also "
                               "accept a logged-in session; writes need the token."}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": _STR, "detail": {}}},
                "SnapshotRow": {"type": "object", "description": "The engine's row, as on "
                                "the pages (docs/websocket.md)", "properties": {
                                    "symbol": _STR, "asset": _STR,
                                    "last": {"type": ["number", "null"]}}},
                "Event": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "event_id": _STR, "symbol": _STR,
                    "asset_class": _STR, "type": _STR, "direction": _STR, "severity": _STR,
                    "ts": {"type": "number"}, "time": _STR, "message": _STR,
                    "details": {"type": "object"}}},
                "Watchlist": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": _STR, "is_default": {"type": "boolean"},
                    "symbols": {"type": "array", "items": {"type": "object", "properties": {
                        "symbol": _STR, "asset_class": _STR}}}}},
                "WatchlistInput": {"type": "object", "additionalProperties": False,
                                   "properties": {
                                       "name": _STR, "is_default": {"type": "boolean"},
                                       "symbols": {"type": "array", "maxItems": 200,
                                                   "items": _STR, "description":
                                                   "AAPL or class:SYMBOL (crypto:SOL-USD); a "
                                                   "symbol has one class"}}},
            },
        },
    }


@api_view("GET")
def openapi_json(request: HttpRequest) -> JsonResponse:
    """Return the OpenAPI document."""
    return JsonResponse(spec())
