"""Create, check and revoke API tokens (``mp_<prefix>_<secret>``); only digests are stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

from django.utils import timezone

from pulse.models import ApiToken

TOKEN_PREFIX = "mp_"
_TOKEN = re.compile(r"^mp_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$")
# last_used_at is rewritten at most this often per token: a busy bot must not make every
# request a database write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def digest(raw: str) -> str:
    """Return the SHA-256 hex digest stored for the full token text ``raw``."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_prefix() -> str:
    # Letters and digits only, so the prefix reads well and splits unambiguously on "_".
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    while True:
        prefix = "".join(secrets.choice(alphabet) for _ in range(8))
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return prefix


def create(user: Any, name: str, expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the full text, which is never stored."""
    prefix = _new_prefix()
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=digest(raw),
                                    expires_at=expires_at)
    return token, raw


def authenticate(raw: str | None) -> ApiToken | None:
    """Return the active token ``raw`` stands for (with its user), else None.

    Malformed, unknown, revoked and expired tokens, and tokens of inactive users, all give
    None. The digest comparison is constant-time; ``last_used_at`` is updated coarsely.
    """
    match = _TOKEN.match(raw or "")
    if match is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if token is None or not hmac.compare_digest(token.digest, digest(raw)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def still_valid(token_id: int) -> bool:
    """Return whether token ``token_id`` is still active (checked by long-lived sockets)."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    return token is not None and token.is_active and token.user.is_active


def revoke(token: ApiToken) -> None:
    """Revoke ``token`` now; sockets using it are closed at their next check."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
