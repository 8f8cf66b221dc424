"""Log-in sessions for the load test's users, written straight into the session store.

Going through the login form would cost the run a request per client and a password hash
per user; a session row with the auth keys set is what the login leaves behind anyway.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils.module_loading import import_string

USER_PREFIX = "loadtest-"


def session_for(user: Any) -> str:
    """Create a logged-in session for ``user`` directly in the session store; return its key."""
    store_cls = import_string(settings.SESSION_ENGINE + ".SessionStore")
    session = store_cls()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(3600)
    session.create()
    return session.session_key


def create_sessions(users: int) -> list[str]:
    """Create (or reuse) ``users`` load-test users and return one fresh session key each."""
    user_model = get_user_model()
    keys = []
    for k in range(users):
        user, created = user_model.objects.get_or_create(username=f"{USER_PREFIX}{k}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        keys.append(session_for(user))
    return keys


def delete_sessions(keys: list[str]) -> None:
    """Delete the sessions created for the run."""
    store_cls = import_string(settings.SESSION_ENGINE + ".SessionStore")
    for key in keys:
        store_cls(session_key=key).delete()
