"""Streaming univariate detectors that need no labels (NAB-style series).

* :class:`WindowedGaussian` is NAB's own baseline (the same arithmetic: a Gaussian fitted to
  the last ``window`` values, refitted every ``step`` values; the score is the two-sided tail
  probability's complement). Kept as the reference a real detector must beat.
* :class:`KnnLikelihood` is riskstream's streaming detector. Its raw surprise is the distance
  from the latest short sub-sequence (``embed`` values) to its nearest neighbour among the last
  ``memory`` sub-sequences it learned as normal, scaled by the range seen so far. The score is
  the larger of two anomaly *likelihoods*, each mapped to [0, 1] on a log scale so that 0.5
  means a tail probability of 1e-5: how unusual the recent surprises' *ranks* are (their mean
  over ``short`` values against uniform ranks: a run of surprises, whatever their size), and how
  unusual the recent surprises' *size* is (their mean against the distribution of that same mean
  over the learned history: a surprise many times larger than any before, which ranks cannot
  tell from the largest normal one). Flagged points are not learned (see
  :meth:`riskstream.models.thresholding.ThresholdFilter.step`).

  v3 knows the time of day where the series repeats daily: fed timestamped samples (``.t``,
  ``.value``; a bare number is a sample without time), it keeps each sub-sequence's clock
  position (a point on a circle) and, while the values it learned (flagged ones after their
  quarantine, at their time) correlate with the
  values one day earlier above ``MIN_DAILY_ACF`` (pairs matched by time; checked every 200
  learned values over the last ``long``), adds the clock distance (weight ``DAY_WEIGHT`` of
  the value range) to the nearest-neighbour distance: a night's pattern at noon, a day without
  its daily peak, is then unlike its neighbours. On a series that does not repeat daily the
  time is left out. And v3 never matches a sub-sequence against those sharing values with it
  (the last ``embed - 1``): a slow change would otherwise always find itself a moment ago.

  ``ranks="overlapping"`` is the quiet variant. Consecutive sub-sequences share ``embed - 1``
  values, so one unusual value makes ``embed`` surprises in a row; the default treats their
  ranks as independent, which is what lets it fire on short runs (and what NAB's scoring
  rewards) but also makes it fire on clean noisy series. The quiet variant widens the rank
  mean's variance for that overlap (a correlation falling linearly to 0 over ``embed`` lags)
  and combines the rank and size evidence (Stouffer's z), so both must add up.

  ``ranks="conditional"`` is the quiet variant now (it replaced ``overlapping``, measured better
  on NAB, leave-one-file-out, clean series and injected found): the overlapping variant's evidence
  plus a run statistic that needs no correction, the ranks of the newest value's *conditional*
  surprise, the joint nearest distance minus the nearest distance of its context alone (the
  first ``embed - 1`` values and the clock). One unusual value raises it once, as the newest,
  not in each of the ``embed`` sub-sequences that hold it, so its ranks are close to
  independent and a run of them is a run of surprising values.

  v4 adds the range check: a reading beyond the range of the values learned so far by more than
  ``beyond_range`` of that range scores 1 at once, whatever the likelihoods say. Both likelihoods
  rank against a history measured while the memory was smaller (nearest distances shrink as it
  grows), so a young memory reads every surprise as small: an 8-sigma spike 400 readings into a
  series scored 0.01. Numenta's NAB detector scores a value 5 % beyond the range seen as an
  anomaly; on the generated clean series 5 % fires on the records of plain noise, and 0.25 is the
  smallest tolerance that finds every injected anomaly without adding a false detection there.
  The range is of *learned* values, so a flagged reading widens it only after its quarantine. The
  distances' scale, though, is now the range of every reading seen, flagged ones too: a flagged
  extreme left out of it kept the readings around it measured on the old, narrow range.

  v5: on a series that repeats daily, only sub-sequences at least half a day old (``SAME_DAY``)
  count as matches: normal is what earlier days did at this hour. Otherwise a day that leaves
  its pattern slowly (its rise never comes, as NAB's art_daily_nojump) matches itself a few
  readings back, learned as it goes, and looks ordinary all day.

  v6: the default's size likelihood measures how far the recent mean surprise lies beyond the
  99th percentile of its learned history in units of that history's own upper tail (its 99th
  percentile less its median, which is 2.33 standard deviations for a Gaussian), not in
  standard deviations. Surprises are positive and skewed; on a series with occasional spikes
  their history has a long upper tail, and in standard deviations two spikes close together,
  rare and normal there, read as a certainty: 7 of the 9 false detections on the seeded spiky
  clean series scored 0.83 to 1 on the size. Where the history's tail is a Gaussian's the z is
  the same as before (a day without its daily peak is still a certainty). The false detections
  on the 80 seeded clean series fall from 16 to 11 (spiky 9 -> 5, noise 2 -> 1), every generated
  anomaly is still found (264), and NAB's 7 files score 66.6 / 56.7 / 72.4 (66.0 / 55.6 / 72.1).
  (A log scale, tried first, lost that day: its surprises are a few times the usual, a small
  step on the log scale of a history that holds near-zero surprises too.)
  The quiet variant keeps the standard deviation: its Stouffer sum of rank and size needs the
  size's full weight (with the tail, NAB 56.6 -> 48.7).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from riskstream.models.base import clip_score, finite_scalar


def _tail_complement(value: float, mean: float, std: float) -> float:
    """1 - the two-sided Gaussian tail beyond ``value``: near 1 far from the mean."""
    z = (value - mean) / std if std > 0 else math.inf if value > mean else -math.inf if value < mean else 0.0
    upper = 0.5 * math.erfc(z / math.sqrt(2.0)) if math.isfinite(z) else (0.0 if z > 0 else 1.0)
    return max(upper, 1.0 - upper)


class WindowedGaussian:
    """NAB's windowed-Gaussian baseline, reproduced row for row (see tests)."""

    name = "windowed-gaussian"

    def __init__(self, window: int = 6400, step: int = 100) -> None:
        self.window, self.step = window, step
        self._data: list[float] = []
        self._pending: list[float] = []
        self._mean = 0.0
        self._std = 1.0

    def warmup(self) -> None:
        return None

    def score(self, x: float) -> float:
        value = finite_scalar(x)
        return 0.0 if not self._data else clip_score(_tail_complement(value, self._mean, self._std))

    def learn(self, x: float) -> None:
        value = finite_scalar(x)
        if len(self._data) < self.window:
            self._data.append(value)
        else:
            self._pending.append(value)
            if len(self._pending) < self.step:
                return
            self._data = self._data[self.step :] + self._pending
            self._pending = []
        self._mean, self._std = float(np.mean(self._data)), float(np.std(self._data))

    advance = learn  # the baseline learns from everything, as in NAB


LOG_FLOOR = 1e-10


_Input = Any  # a bare number, or a timestamped sample with ``.t`` (seconds) and ``.value``
# a flagged input waiting to be learned: (seen at, input, sub-sequence, clock, surprise, size,
# conditional surprise)
_Held = tuple[int, _Input, np.ndarray | None, np.ndarray | None, float, float, float]
Ranks = Literal["independent", "overlapping", "conditional"]


def log_likelihood_score(likelihood: float) -> float:
    """Map a likelihood near 1 onto [0, 1]: 0.5 = 1 - 1e-5, 1.0 = 1 - 1e-10."""
    return clip_score(math.log(1.0 + LOG_FLOOR - likelihood) / math.log(LOG_FLOOR))


BEYOND_RANGE = 0.25  # beyond the learned range by this fraction of it: an anomaly at once
Z99 = 2.3263478740408408  # the standard normal's 99th percentile
RESOLUTION = 1e-9  # of the range: below it a distance is rounding (no sensor resolves a billionth)
_Z_CAP = 40.0  # a z beyond this is certainty: keep it from swamping the other in a sum


def _z_score(z: float) -> float:
    """The log-likelihood score of a one-sided z (0.5 at a tail of 1e-5)."""
    if z == math.inf:
        return 1.0
    if z == -math.inf:
        return 0.0
    return log_likelihood_score(0.5 * math.erfc(-z / math.sqrt(2.0)))


def overlap_factor(n: int, embed: int) -> float:
    """Variance of the mean of ``n`` consecutive ranks, in units of independent ranks', when
    consecutive sub-sequences of ``embed`` values overlap (correlation 1 - lag/embed)."""
    total = n + 2.0 * sum((n - k) * (1.0 - k / embed) for k in range(1, min(embed, n)))
    return total / n


def _rank_in(history: deque[float], value: float) -> float:
    """Where ``value`` falls among ``history``, in [0, 1] (ties count half)."""
    hist = np.fromiter(history, dtype=np.float64)
    return (float(np.sum(hist < value)) + 0.5 * float(np.sum(hist == value))) / len(hist)


def _run_z(recent: list[float], factor: float) -> float:
    """How far the mean of ``recent`` ranks is above 1/2, as a z. Under "normal", ranks are
    uniform: the mean of n has variance 1/(12 n) when independent, ``factor`` times that when
    they are correlated (:func:`overlap_factor`)."""
    return (float(np.mean(recent)) - 0.5) / math.sqrt(factor / (12.0 * len(recent)))


class KnnLikelihood:
    """Nearest-neighbour surprise of recent sub-sequences, scored as an anomaly likelihood."""

    # v2: distances on one scale (the memory keeps raw sub-sequences) and the size likelihood;
    # v3: the time of day, on series that repeat daily; v4: a reading far beyond the learned range;
    # v5: on a daily series, no match within the last half day; v6: the default's size z in
    # units of its history's upper tail
    name = "knn-likelihood@6"

    def __init__(
        self,
        embed: int = 8,
        memory: int = 3000,
        short: int = 10,
        long: int = 2000,
        min_history: int = 100,
        quarantine: int = 200,
        ranks: Ranks = "independent",
        time_of_day: Literal["auto", "off"] = "auto",
        beyond_range: float | None = BEYOND_RANGE,
        size_scale: Literal["tail", "spread"] | None = None,
    ) -> None:
        self.embed, self.memory, self.short, self.long = embed, memory, short, long
        self.min_history, self.quarantine, self.ranks = min_history, quarantine, ranks
        self.time_of_day, self.beyond_range = time_of_day, beyond_range
        # None: the tail for the default ranks, the spread for the others (see v6 above)
        usual: Literal["tail", "spread"] = "tail" if ranks == "independent" else "spread"
        self.size_scale = size_scale or usual
        suffixes = [s for s, on in (("overlapping-ranks", ranks == "overlapping"),
                                    ("conditional-ranks", ranks == "conditional"),
                                    ("no-time-of-day", time_of_day == "off"),
                                    (_range_suffix(beyond_range), beyond_range != BEYOND_RANGE),
                                    (f"{self.size_scale}-sizes", self.size_scale != usual)) if on]
        self.name = "/".join([KnnLikelihood.name, *suffixes])
        self._seen = 0
        self._quarantine: deque[_Held] = deque()
        self._clock_bank = np.zeros((memory, 2), dtype=np.float64)  # each sub-sequence's clock position
        self._bank_at = np.zeros(memory, dtype=np.int64)  # the input each sub-sequence ended at
        self._bank_t = np.full(memory, -np.inf)  # its time (-inf: none given)
        self._now: float | None = None  # the latest input's time
        self._clock: np.ndarray | None = None  # the latest input's
        self._pending_clock: np.ndarray | None = None
        self._timed: list[tuple[float, float]] = []  # learned (t, value), in time order
        self._learned = 0
        self.daily = False  # the learned values repeat one day apart: the clock counts
        self._context: deque[float] = deque(maxlen=embed)
        self._bank = np.zeros((memory, embed), dtype=np.float64)
        self._bank_size = 0
        self._bank_next = 0
        self._lo = math.inf  # the learned values' range
        self._hi = -math.inf
        self._seen_lo = math.inf  # every reading's, flagged ones too: the distances' scale
        self._seen_hi = -math.inf
        self._recent_rank: deque[float] = deque(maxlen=short)
        self._last_rank = 0.5
        self._raw_history: deque[float] = deque(maxlen=long)
        self._recent_raw: deque[float] = deque(maxlen=short)
        self._size_history: deque[float] = deque(maxlen=long)  # recent mean surprises learned
        self._last_raw = 0.0
        self._last_size = 0.0
        self._pending_vector: np.ndarray | None = None
        # conditional ranks: the newest value's surprise given its context, learned and recent
        self._cond_history: deque[float] = deque(maxlen=long)
        self._recent_cond_rank: deque[float] = deque(maxlen=short)
        self._last_cond = 0.0
        self._last_cond_rank = 0.5

    def warmup(self) -> None:
        return None

    def _vector(self, value: float) -> np.ndarray | None:
        if len(self._context) < self.embed - 1:
            return None
        return np.fromiter([*list(self._context)[-(self.embed - 1) :], value], dtype=np.float64)

    def _raw(self, vec: np.ndarray | None) -> float:
        # The memory keeps sub-sequences as they came; distances are scaled by the range seen
        # *now*, so every stored one is measured on one scale. (Stored already scaled, each by
        # the range of its own time, a new extreme value rescaled every later sub-sequence
        # against the memory, and the mismatch read as surprise.) The range of every reading
        # seen, flagged ones too: a flagged extreme kept out of it for its quarantine left the
        # surprises around it measured on the old, narrow range, and those learned, as large as
        # they looked, made every later surprise rank low.
        self._last_cond = 0.0
        if vec is None or self._bank_size < self.min_history:
            return 0.0
        span = self._seen_hi - self._seen_lo
        scale = span if math.isfinite(span) and span > 0 else 1.0
        diffs = self._bank[: self._bank_size] - vec
        if self.ranks == "conditional":
            newest = diffs[:, -1] ** 2 / (self.embed * scale * scale)
            diffs = diffs[:, :-1]
        squared = np.einsum("ij,ij->i", diffs, diffs) / (self.embed * scale * scale)
        if self.daily and self._clock is not None:
            ticks = self._clock_bank[: self._bank_size] - self._clock
            squared = squared + DAY_WEIGHT**2 * np.einsum("ij,ij->i", ticks, ticks)
        # Sub-sequences sharing values with this one are trivial matches (a slow change would
        # always find itself a moment ago): only those at least ``embed`` inputs older count.
        squared[self._bank_at[: self._bank_size] > self._seen - self.embed] = np.inf
        # On a daily series, normal is what earlier days did at this hour. A day that leaves
        # the pattern slowly (its rise never comes) would otherwise match itself 40 minutes
        # back, learned as it went, and look ordinary all day (scored 0.14 before).
        if self.daily and self._now is not None:
            squared[self._bank_t[: self._bank_size] > self._now - SAME_DAY] = np.inf
        if self.ranks == "conditional":  # ``squared`` is the context's; the joint adds the newest
            context = float(np.min(squared))
            squared = squared + newest
        best = float(np.min(squared))
        if not math.isfinite(best):
            return 0.0
        if self.ranks == "conditional":  # joint >= context: the nearest joint has a context too
            self._last_cond = _above_rounding(math.sqrt(self.embed * max(0.0, best - context)))
        return _above_rounding(math.sqrt(best))

    def score(self, x: _Input) -> float:
        t, value = _split(x)
        self._clock = _clock(t) if t is not None and self.time_of_day == "auto" else None
        self._now = t
        vec = self._vector(value)
        raw = self._raw(vec)
        self._last_raw, self._pending_vector, self._pending_clock = raw, vec, self._clock
        likelihood = self._likelihood(raw)
        return 1.0 if self._beyond_learned_range(value) else likelihood

    def _beyond_learned_range(self, value: float) -> bool:
        """The reading lies beyond the learned values' range by more than ``beyond_range`` of it
        (once ``min_history`` sub-sequences are learned; never on a constant series, whose range
        is 0 and whose first change the size likelihood already takes as certain)."""
        span = self._hi - self._lo
        if self.beyond_range is None or self._bank_size < self.min_history or not span > 0:
            return False
        margin = self.beyond_range * span
        return value > self._hi + margin or value < self._lo - margin

    def _likelihood(self, raw: float) -> float:
        """The larger of the rank and size likelihoods (and, conditional, the conditional one)."""
        if len(self._raw_history) < self.min_history:
            return 0.0
        self._last_rank = _rank_in(self._raw_history, raw)
        recent = [*self._recent_rank, self._last_rank][-self.short :]
        # overlapping sub-sequences' ranks are correlated: their mean varies more
        factor = overlap_factor(len(recent), self.embed) if self.ranks != "independent" else 1.0
        rank_z = _run_z(recent, factor)
        size_z = self._size_z(raw)
        if self.ranks == "independent":
            return max(_z_score(rank_z), _z_score(size_z))
        both = (rank_z + min(size_z, _Z_CAP)) / math.sqrt(2.0)
        quiet = max(_z_score(rank_z), _z_score(size_z), _z_score(both))
        return max(quiet, _z_score(self._conditional_z())) if self.ranks == "conditional" else quiet

    def _conditional_z(self) -> float:
        """How unusual the recent conditional surprises' ranks are (independent ranks)."""
        if len(self._cond_history) < self.min_history:
            return -math.inf
        self._last_cond_rank = _rank_in(self._cond_history, self._last_cond)
        return _run_z([*self._recent_cond_rank, self._last_cond_rank][-self.short :], 1.0)

    def _size_z(self, raw: float) -> float:
        """How unusual the recent mean surprise is against its own learned history (a z)."""
        self._last_size = size = float(np.mean([*self._recent_raw, raw][-self.short :]))
        if len(self._size_history) < self.min_history:
            return -math.inf
        sizes = np.fromiter(self._size_history, dtype=np.float64)
        if self.size_scale == "tail":  # as a Gaussian's z where the history's tail is one's
            q50, q99 = np.quantile(sizes, [0.5, 0.99])
            if q99 > q50:
                return Z99 + (size - float(q99)) * Z99 / float(q99 - q50)
        spread = float(sizes.std())
        if spread <= 0.0:
            return math.inf if size > float(sizes.mean()) + 1e-12 else -math.inf
        return (size - float(sizes.mean())) / spread

    def _move_on(self, value: float) -> None:
        self._seen += 1
        self._seen_lo, self._seen_hi = min(self._seen_lo, value), max(self._seen_hi, value)
        self._release_quarantine()
        self._context.append(value)
        self._recent_rank.append(self._last_rank)
        self._recent_raw.append(self._last_raw)
        self._recent_cond_rank.append(self._last_cond_rank)

    def _admit(self, at: int, x: _Input, vector: np.ndarray | None, clock: np.ndarray | None,
               raw: float, size: float, cond: float) -> None:
        t, value = _split(x)
        self._lo, self._hi = min(self._lo, value), max(self._hi, value)
        if vector is not None:
            self._bank[self._bank_next] = vector
            self._bank_t[self._bank_next] = t if t is not None else -math.inf
            self._clock_bank[self._bank_next] = clock if clock is not None else 0.0
            self._bank_at[self._bank_next] = at
            self._bank_next = (self._bank_next + 1) % self.memory
            self._bank_size = min(self._bank_size + 1, self.memory)
        if self._bank_size > self.min_history:  # a real surprise, not a warm-up zero
            self._raw_history.append(raw)
            self._cond_history.append(cond)
            if len(self._raw_history) >= self.min_history:  # a mean of real surprises
                self._size_history.append(size)

    def _release_quarantine(self) -> None:
        while self._quarantine and self._quarantine[0][0] <= self._seen - self.quarantine:
            held = self._quarantine.popleft()
            self._admit(*held)
            self._count_for_daily_check(held[1])

    def _count_for_daily_check(self, x: _Input) -> None:
        """A learned value joins the daily check at its time (a flagged one, learned late
        after its quarantine, in its place), so what the memory learns the check sees too."""
        t, value = _split(x)
        if t is None or self.time_of_day != "auto":
            return
        bisect.insort(self._timed, (t, value))
        if len(self._timed) > self.long:
            del self._timed[0]
        self._learned += 1
        if self._learned % GATE_EVERY == 0:
            self.daily = daily_autocorrelation(self._timed) > MIN_DAILY_ACF

    def learn(self, x: _Input) -> None:
        _, value = _split(x)
        self._admit(self._seen, x, self._pending_vector, self._pending_clock, self._last_raw,
                    self._last_size, self._last_cond)
        self._move_on(value)
        self._count_for_daily_check(x)

    def advance(self, x: _Input) -> None:
        _, value = _split(x)
        self._quarantine.append((self._seen, x, self._pending_vector, self._pending_clock,
                                 self._last_raw, self._last_size, self._last_cond))
        self._move_on(value)


DAY = 86400.0
DAY_WEIGHT = 0.1  # the clock distance's weight, in units of the value range
MIN_DAILY_ACF = 0.5  # the learned values' autocorrelation one day apart that makes the clock count
GATE_EVERY = 200  # learned values between two checks of it
SAME_DAY = 0.5 * DAY  # on a daily series, sub-sequences this recent are no match (seconds)


def _above_rounding(distance: float) -> float:
    """0 for a distance (in units of the range) below ``RESOLUTION``: an exact repeat computed
    anew (a noiseless daily cycle) differs by floating-point rounding, about 1e-15, and ranked,
    that rounding made runs of "surprise" (5 detections on a noiseless sine before)."""
    return distance if distance >= RESOLUTION else 0.0


def _range_suffix(beyond_range: float | None) -> str:
    return "no-range-check" if beyond_range is None else f"beyond-range-{beyond_range:g}"


def _split(x: _Input) -> tuple[float | None, float]:
    """(time or None, value) of a timestamped sample (``.t``, ``.value``) or a bare number."""
    if hasattr(x, "t") and hasattr(x, "value"):
        return finite_scalar(x.t), finite_scalar(x.value)
    return None, finite_scalar(x)


def _clock(t: float) -> np.ndarray:
    """The time of day as a point on the unit circle (23:59 is next to 00:00)."""
    angle = 2.0 * math.pi * ((t % DAY) / DAY)
    return np.array([math.cos(angle), math.sin(angle)])


def daily_autocorrelation(timed: Sequence[tuple[float, float]], min_pairs: int = 50) -> float:
    """Correlation of the values with the values one day earlier, pairs matched by time (within
    half the median sampling step), so gaps (flagged values are not in it) and irregular steps
    do not shift the day; 0 with fewer than ``min_pairs`` pairs (less than a day and a bit)."""
    if len(timed) < min_pairs:
        return 0.0
    ts = np.fromiter((t for t, _ in timed), dtype=np.float64)
    vs = np.fromiter((v for _, v in timed), dtype=np.float64)
    tolerance = 0.5 * float(np.median(np.diff(ts)))
    if tolerance <= 0:
        return 0.0
    earlier = np.clip(np.searchsorted(ts, ts - DAY), 0, len(ts) - 1)
    for shift in (0, -1):  # the nearer of the two neighbours of t - 1 day
        other = np.clip(earlier + shift, 0, len(ts) - 1)
        closer = np.abs(ts[other] - (ts - DAY)) < np.abs(ts[earlier] - (ts - DAY))
        earlier = np.where(closer, other, earlier)
    matched = np.abs(ts[earlier] - (ts - DAY)) <= tolerance
    if int(matched.sum()) < min_pairs:
        return 0.0
    a, b = vs[matched], vs[earlier[matched]]
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return float(np.dot(a, b)) / den if den > 0 else 0.0
