"""From scores to detections: a separate, configurable step (detectors never threshold).

:class:`ThresholdFilter` fires when a score reaches ``threshold`` for ``min_consecutive`` inputs
in a row (at once when it reaches ``fire_at_once``), stays active until the score falls below
``threshold - hysteresis``, and after a detection stays quiet for ``cooldown`` inputs so one
incident is one detection. Pure and stateful per stream; ``detections`` applies it to a whole
series for evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from riskstream.config.thresholds import ThresholdConfig
from riskstream.models.base import OnlineDetector

__all__ = ["ThresholdConfig", "ThresholdFilter", "detections", "flags", "run_online"]


class ThresholdFilter:
    """Stateful thresholding of one score stream."""

    def __init__(self, cfg: ThresholdConfig) -> None:
        self.cfg = cfg
        self._run = 0
        self._active = False
        self._quiet = 0

    @property
    def active(self) -> bool:
        """Whether the stream is currently in a detection (persistence and hysteresis applied)."""
        return self._active

    def above(self, score: float) -> bool:
        """Whether ``score`` counts as anomalous (ignores persistence and cooldown)."""
        limit = self.cfg.threshold - (self.cfg.hysteresis if self._active else 0.0)
        return score >= limit

    def update(self, score: float) -> bool:
        """Feed one score; True when a new detection starts here."""
        high = self.above(score)
        self._run = self._run + 1 if high else 0
        was_active = self._active
        at_once = self.cfg.fire_at_once is not None and score >= self.cfg.fire_at_once
        self._active = high and (was_active or at_once or self._run >= self.cfg.min_consecutive)
        if self._quiet > 0:
            self._quiet -= 1
            return False
        fired = self._active and not was_active
        if fired:
            self._quiet = self.cfg.cooldown
        return fired

    def observe(self, score: float) -> tuple[bool, bool]:
        """Feed one score; returns (flagged, fired). ``flagged``: the input counts as anomalous
        (at the threshold or at ``learn_below``, or above the hysteresis limit during a
        detection), so an online detector must not learn from it; ``fired``: a new detection
        starts here."""
        flagged = self.above(score) or (self.cfg.learn_below is not None and score >= self.cfg.learn_below)
        return flagged, self.update(score)


    def step(self, detector: Any, x: Any) -> tuple[float, bool]:
        """One input through ``detector`` and this filter: (score, fired). The filter owns what
        may be learned (see :func:`step`). The edge's detector chain, its assets and the
        evaluations all run this one step."""
        return step(detector, x, self.observe)


def step(detector: Any, x: Any, observe: Callable[[float], tuple[bool, bool]]) -> tuple[float, bool]:
    """Score ``x``; ``observe`` says (flagged, fired). An online detector learns ``x`` only when
    it is not flagged, and otherwise only moves past it (never learn what you flag); other
    detectors are only scored."""
    score = detector.score(x)
    flagged, fired = observe(score)
    if isinstance(detector, OnlineDetector):
        (detector.advance if flagged else detector.learn)(x)
    return score, fired


def run_online(detector: Any, xs: Iterable[Any],
               gate: ThresholdFilter | Callable[[float], bool]) -> list[float]:
    """Scores of a whole series through :func:`step`; ``gate`` is the threshold filter, or a
    plain "is this flagged" predicate (a baseline's point threshold, a test's never/always)."""
    if isinstance(gate, ThresholdFilter):
        observe = gate.observe
    else:
        def observe(score: float) -> tuple[bool, bool]:
            return gate(score), False
    return [step(detector, x, observe)[0] for x in xs]


def detections(scores: Iterable[float], cfg: ThresholdConfig) -> list[int]:
    """1 where a detection starts, else 0, for a whole series."""
    f = ThresholdFilter(cfg)
    return [int(f.update(s)) for s in scores]


def flags(scores: Iterable[float], cfg: ThresholdConfig) -> list[int]:
    """1 for every input the filter considers anomalous (point-wise metrics such as F1)."""
    f = ThresholdFilter(cfg)
    out = []
    for s in scores:
        f.update(s)
        out.append(int(f.active))
    return out
