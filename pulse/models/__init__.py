"""The app's models, one concept per module."""

from pulse.models.alerts import AlertCooldown, AlertDelivery, AlertRule, WebhookEndpoint
from pulse.models.api_token import ApiToken
from pulse.models.event import Event
from pulse.models.ingest_status import IngestStatus
from pulse.models.instrument import AssetClass, AssetClassMismatch, Instrument
from pulse.models.recording import RecordedMinute
from pulse.models.watchlist import Watchlist, WatchlistItem

__all__ = ["AlertCooldown", "AlertDelivery", "AlertRule", "ApiToken", "AssetClass",
           "AssetClassMismatch", "Event",
           "IngestStatus", "Instrument", "RecordedMinute", "Watchlist", "WatchlistItem",
           "WebhookEndpoint"]
