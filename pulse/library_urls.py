"""URLs of the library pages (watchlists, event history)."""

urlpatterns: list = []
