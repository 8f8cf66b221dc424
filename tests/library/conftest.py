"""Fixtures for the library pages: logged-in clients, watchlists, instruments, events.

alice and bob (tests/conftest.py) are ordinary users; carol is staff but not a superuser,
a member of "Watchlist editors"; root is a superuser. Nobody but root may see another
user's watchlists.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def carol(django_user_model):
    """Staff, not superuser, in the "Watchlist editors" group: sees only her own lists."""
    user = django_user_model.objects.create_user("carol", password="carol-pass-123",
                                                 is_staff=True)
    user.groups.add(Group.objects.get(name="Watchlist editors"))
    return user


@pytest.fixture
def carol_client(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


@pytest.fixture
def root_client(django_user_model) -> Client:
    """A superuser: sees everyone's watchlists in the admin."""
    user = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Hash the fixtures' passwords cheaply: these tests are about access, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
