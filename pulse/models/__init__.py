"""The app's models, one concept per module."""

from pulse.models.event import Event
from pulse.models.ingest_status import IngestStatus
from pulse.models.instrument import AssetClass, Instrument
from pulse.models.watchlist import Watchlist, WatchlistItem

__all__ = ["AssetClass", "Event", "IngestStatus", "Instrument", "Watchlist", "WatchlistItem"]
