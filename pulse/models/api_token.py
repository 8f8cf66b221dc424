"""API tokens: per-user bearer credentials for the REST and streaming APIs, stored hashed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One user's API token; only its SHA-256 digest and a short visible prefix are kept.

    The full token (``mp_<prefix>_<secret>``) is shown once at creation and never stored, so
    a database leak reveals no usable credential. ``prefix`` identifies the token in lists
    and logs and narrows the lookup; the digest is then compared in constant time.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, help_text="What the token is for (e.g. 'notebook').")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False, help_text="SHA-256, hex.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user_id", "-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} (mp_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        """Return whether the token may authenticate now (not revoked, not expired)."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
