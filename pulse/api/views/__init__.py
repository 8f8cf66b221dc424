"""The API's HTTP views, one module per resource: tokens (pages), market, correlation,
events, watchlists, health (REST)."""
