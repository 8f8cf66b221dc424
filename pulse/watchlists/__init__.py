"""Watchlists: the transactional operations on a user's lists (``operations``), their
quotas, forms, pages and the symbol autocomplete (``views``, ``urls``)."""
