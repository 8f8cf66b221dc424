"""Pure-Python market pulse engine: per-symbol metrics, regime, stress events, correlation.

No Django import anywhere in this package, and no wall clock: all windows use event time.
"""

from pulse.engine.config import EngineConfig
from pulse.engine.engine import Engine
from pulse.engine.events import StressEvent
from pulse.engine.tick import Tick

__all__ = ["Engine", "EngineConfig", "StressEvent", "Tick"]
