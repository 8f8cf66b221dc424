"""Correlation of asynchronously ticking symbols, streamed on a previous-tick grid.

The default estimator (``grid_hy``) is Hayashi-Yoshida on prices sampled on a 1-second
previous-tick clock; ``docs/correlation.md`` has the evidence for that choice.
"""

from pulse.engine.correlation.config import METHODS, CorrelationConfig
from pulse.engine.correlation.tracker import CorrelationTracker

__all__ = ["METHODS", "CorrelationConfig", "CorrelationTracker"]
