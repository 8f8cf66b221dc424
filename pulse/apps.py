"""App configuration: wiring that must happen once Django is ready."""

from django.apps import AppConfig


class PulseConfig(AppConfig):
    """Market Pulse's Django app."""

    name = "pulse"
    verbose_name = "Market Pulse"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register system checks and signal receivers."""
        from pulse import checks, signals  # noqa: F401  (they register on import)
