"""Programmatic access: API tokens, the JSON REST API and the streaming WebSocket API.

See ``docs/api.md`` for the protocol, the endpoints and the token lifecycle.
"""
