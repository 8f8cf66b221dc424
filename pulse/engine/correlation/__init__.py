"""Correlation of asynchronously ticking symbols, streamed on a previous-tick grid.

The default estimator (``kernel``) is a realized kernel of pre-averaged (triangular
weights) interpolated 1-second samples: bounded, positive semi-definite, robust to lead-lag
between venues, with a standard error per pair; ``docs/correlation.md`` has the evidence
for that choice.
"""

from pulse.engine.correlation.config import METHODS, CorrelationConfig
from pulse.engine.correlation.tracker import CorrelationTracker

__all__ = ["METHODS", "CorrelationConfig", "CorrelationTracker"]
