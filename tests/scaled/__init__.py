"""Scaled mode: ingest, daphne, Redis and PostgreSQL as separate processes."""
