"""The operating curve of a thresholded streaming detector: what an operator trades by moving
its threshold (NAB's windows against false detections on clean series).

Only thresholds at or above the filter's ``learn_below`` are swept: there, what the detector
learns does not depend on the threshold, so one run's scores serve every point of the curve and
each point is exactly what that threshold would do deployed. Below it, a lower threshold would
also keep more inputs out of the memory, and the scores themselves would change.
"""

from __future__ import annotations

from riskstream.models.thresholding import ThresholdConfig

THRESHOLDS = (0.5, 0.55, 0.6, 0.63, 0.66, 0.68, 0.7, 0.72, 0.75, 0.8, 0.85, 0.9)


def thresholds_for(cfg: ThresholdConfig) -> tuple[float, ...]:
    """The curve's thresholds valid for ``cfg`` (at or above what it learns below), and its own."""
    floor = cfg.learn_below if cfg.learn_below is not None else cfg.threshold
    return tuple(sorted({t for t in THRESHOLDS if t >= floor} | {cfg.threshold}))


def key(threshold: float) -> str:
    """A threshold as a results-file key ("0.66")."""
    return f"{threshold:g}"
