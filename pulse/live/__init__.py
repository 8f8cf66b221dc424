"""The live pages: dashboard and symbol pages (``views``, ``urls``) and the page socket's
consumer (``consumer``), which relays what ingest broadcasts to each page."""
