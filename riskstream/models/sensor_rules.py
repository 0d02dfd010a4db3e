"""Rule-based sensor detectors on timestamped samples (pure; time is the sample's, not a clock).

Each scores one :class:`Sample` in [0, 1] with 0.5 at its configured limit, so one threshold
filter (0.5) serves them all. Samples must arrive in time order: an older sample than the last
one is a :class:`DetectorInputError` (the edge decides what to do with late readings before
they reach a detector). The two-level alarm shares its arithmetic with the edge's threshold
events (:mod:`riskstream.sensors.thresholds`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from riskstream.config.schema import AlarmThresholds
from riskstream.models.base import DetectorInputError, clip_score, finite_scalar
from riskstream.sensors.thresholds import ALARM, NORMAL, WARNING, next_level


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds (device time, UTC epoch)
    value: float


class _InOrder:
    def __init__(self) -> None:
        self._last_t = -math.inf

    def _check(self, x: object) -> Sample:
        if not isinstance(x, Sample):
            raise DetectorInputError(f"expected a Sample(t, value), got {type(x).__name__}")
        t, value = finite_scalar(x.t), finite_scalar(x.value)
        if t < self._last_t:
            raise DetectorInputError(f"sample at t={t} is older than the previous one (t={self._last_t})")
        self._last_t = t
        return Sample(t, value)

    def warmup(self) -> None:
        return None


class LevelAlarm(_InOrder):
    """Two-level alarm with hysteresis: 0 normal, 0.5 warning, 1.0 alarm."""

    name = "level-alarm@1"

    def __init__(self, thresholds: AlarmThresholds) -> None:
        super().__init__()
        self.thresholds = thresholds
        self.level = NORMAL

    def score(self, x: object) -> float:
        s = self._check(x)
        self.level = next_level(self.thresholds, self.level, s.value)
        return {NORMAL: 0.0, WARNING: 0.5, ALARM: 1.0}[self.level]


class RateOfChange(_InOrder):
    """|dv/dt| against ``max_per_s``; 0.5 at the limit. Equal timestamps are skipped (no rate)."""

    name = "rate-of-change@1"

    def __init__(self, max_per_s: float) -> None:
        super().__init__()
        if max_per_s <= 0:
            raise ValueError("max_per_s must be positive")
        self.max_per_s = max_per_s
        self._prev: Sample | None = None

    def score(self, x: object) -> float:
        s = self._check(x)
        prev, self._prev = self._prev, s
        if prev is None or s.t == prev.t:
            return 0.0
        rate = abs(s.value - prev.value) / (s.t - prev.t)
        return clip_score(rate / (rate + self.max_per_s))


class Stuck(_InOrder):
    """Flat line: the value moved less than ``min_change`` over the last ``window_s`` seconds
    (with at least ``min_samples`` samples). 1.0 when stuck, else 0."""

    name = "stuck@1"

    def __init__(self, window_s: float, min_change: float, min_samples: int = 5) -> None:
        super().__init__()
        self.window_s, self.min_change, self.min_samples = window_s, min_change, min_samples
        self._recent: deque[Sample] = deque()

    def score(self, x: object) -> float:
        s = self._check(x)
        self._recent.append(s)
        while self._recent and self._recent[0].t < s.t - self.window_s:
            self._recent.popleft()
        covered = s.t - self._recent[0].t >= self.window_s * 0.9
        if len(self._recent) < self.min_samples or not covered:
            return 0.0
        values = [r.value for r in self._recent]
        return 1.0 if max(values) - min(values) < self.min_change else 0.0


class Implausible(_InOrder):
    """A value outside the physically possible range scores 1.0."""

    name = "implausible@1"

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        if low >= high:
            raise ValueError(f"range min {low} must be below max {high}")
        self.low, self.high = low, high

    def score(self, x: object) -> float:
        s = self._check(x)
        return 0.0 if self.low <= s.value <= self.high else 1.0


class Silence:
    """No data for ``timeout_s``: ``seen(t)`` on each sample, ``score(now)`` on a timer; 0.5 at
    the timeout. Before the first sample, silence counts from the first ``score`` call (when
    the agent started watching), or from ``started_at`` when given."""

    name = "silence@1"

    def __init__(self, timeout_s: float, started_at: float | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.timeout_s = timeout_s
        self._last = started_at

    def warmup(self) -> None:
        return None

    def seen(self, t: float) -> None:
        t = finite_scalar(t)
        self._last = t if self._last is None else max(self._last, t)

    def score(self, x: object) -> float:
        now = finite_scalar(x)
        if self._last is None:
            self._last = now
        quiet = max(0.0, now - self._last)
        return clip_score(quiet / (quiet + self.timeout_s))
