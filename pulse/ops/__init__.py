"""What operators watch: ingest liveness (``health``), Prometheus metrics (``metrics``),
their endpoints (``views``, ``urls``) and the load generator behind ``manage.py loadtest``
(``loadtest``)."""
