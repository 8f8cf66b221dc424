"""Ingest: feeds -> engine -> persistence and broadcast, run by ``runpulse`` and ``replay``."""
