"""The latest health report of each running ingest process, for /health in any mode."""

from __future__ import annotations

from django.db import models


class IngestStatus(models.Model):
    """One row per ingest process (``runpulse``), rewritten every few seconds.

    Web processes read it to serve the health endpoint: in scaled mode they do not share
    memory with ingest, and a row that stops being updated reveals a dead ingest process.
    """

    instance = models.CharField(max_length=100, unique=True)
    updated_at = models.DateTimeField()
    health = models.JSONField(default=dict)

    class Meta:
        ordering = ["instance"]
        verbose_name_plural = "ingest statuses"

    def __str__(self) -> str:
        return self.instance
