"""Durable market state: the per-second recording, warm start from it, and its replay."""
