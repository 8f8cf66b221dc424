"""URLs of the live pages (symbol pages)."""

urlpatterns: list = []
