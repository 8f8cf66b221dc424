"""What operators watch: ingest liveness (``health``), Prometheus metrics (``metrics``)
and their endpoints (``views``, ``urls``)."""
