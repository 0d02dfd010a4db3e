"""The NAB scoring rules (pure): windows, probation, scaled sigmoid, profiles, normalisation.

Written from NAB's documentation (and checked against NAB's own published per-file scores in
``tests/integration/test_nab_scorer.py``): a detection is a row whose anomaly score is at or
above the threshold; inside a window only the earliest detection counts, weighted by how early
it came; detections outside every window cost ``A_FP`` scaled by how far they are past the
previous window; a missed window costs ``A_FN``; the first ``min(floor(0.15 N), 750)`` rows are
probation and are not scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PROBATION_PERCENT = 0.15


@dataclass(frozen=True, slots=True)
class Profile:
    """A NAB cost matrix."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


@dataclass(frozen=True, slots=True)
class FileScore:
    """The raw (unnormalised) score of one file and NAB's row counts after probation."""

    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: int
    detected_windows: int


def probation_rows(n_rows: int) -> int:
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * 5000))


def scaled_sigmoid(position: float) -> float:
    """NAB's S(y): +1 near the left edge of a window, 0 at its right edge, -1 far past it."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def window_index_ranges(
    timestamps: Sequence[str], windows: Sequence[tuple[str, str]]
) -> list[tuple[int, int]]:
    """Row index ranges (inclusive) of windows given as timestamps that occur in the file."""
    index = {ts: i for i, ts in enumerate(timestamps)}
    ranges = []
    for start, end in windows:
        try:
            ranges.append((index[start], index[end]))
        except KeyError as exc:
            raise ValueError(f"window edge {exc.args[0]!r} is not a timestamp of the file") from None
    return sorted(ranges)


def row_weights(
    n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile
) -> tuple[list[float], list[int]]:
    """Per row: the score a detection there would earn, and the window it is in (-1 = none)."""
    weights = [0.0] * n_rows
    window_of = [-1] * n_rows
    max_tp = scaled_sigmoid(-1.0)
    prev_right: int | None = None
    prev_width = 0.0
    pending = list(windows)
    current: tuple[int, int] | None = None
    for i in range(n_rows):
        if current is None and pending and pending[0][0] == i:
            current = pending.pop(0)
        if current is not None:
            left, right = current
            width = float(right - left + 1)
            weights[i] = scaled_sigmoid(-(right - i + 1) / width) * profile.tp / max_tp
            window_of[i] = left
            if i == right:
                prev_right, prev_width, current = right, width, None
        elif prev_right is None:
            weights[i] = -1.0 * profile.fp
        else:
            weights[i] = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0)) * profile.fp
    return weights, window_of


def score_file(
    scores: Sequence[float],
    labels: Sequence[int],
    windows: Sequence[tuple[int, int]],
    threshold: float,
    profile: Profile,
) -> FileScore:
    """Score one file's anomaly scores at ``threshold`` under ``profile``."""
    n = len(scores)
    probation = probation_rows(n)
    weights, window_of = row_weights(n, windows, profile)
    total = 0.0
    tp = tn = fp = fn = 0
    detected: set[int] = set()
    for i in range(probation, n):
        hit = scores[i] >= threshold
        positive = labels[i] == 1
        tp += hit and positive
        fp += hit and not positive
        fn += (not hit) and positive
        tn += (not hit) and not positive
        if not hit:
            continue
        if window_of[i] < 0:
            total += weights[i]
        elif window_of[i] not in detected:
            detected.add(window_of[i])
            total += weights[i]
    scored_windows = [w for w in windows if w[1] >= probation]
    total -= profile.fn * sum(1 for w in scored_windows if w[0] not in detected)
    return FileScore(total, tp, tn, fp, fn, len(scored_windows), len(detected))


def window_labels(n_rows: int, windows: Sequence[tuple[int, int]]) -> list[int]:
    labels = [0] * n_rows
    for left, right in windows:
        for i in range(left, right + 1):
            labels[i] = 1
    return labels


def normalised(raw: float, n_windows: int, profile: Profile) -> float:
    """NAB's 100 * (raw - null) / (perfect - null) for a corpus with ``n_windows`` windows."""
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)


class DetectionScorer:
    """One file's NAB score of detection *starts* (a 0/1 row per detection), fast: the row
    weights are computed once, and each call looks only at the rows that fired (the threshold
    searches score one file thousands of times). Same rules and result as :func:`score_file`
    at threshold 1.0 on such a vector (tested)."""

    def __init__(self, n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile) -> None:
        weights, window_of = row_weights(n_rows, windows, profile)
        self.weights, self.window_of = weights, window_of
        self.probation = probation_rows(n_rows)
        self.profile = profile
        self.scored_windows = [w[0] for w in windows if w[1] >= self.probation]

    def score(self, starts: Sequence[int]) -> float:
        """Raw score of detections at the row indices ``starts`` (ascending)."""
        total, detected = 0.0, set()
        for i in starts:
            if i < self.probation:
                continue
            window = self.window_of[i]
            if window < 0:
                total += self.weights[i]
            elif window not in detected:
                detected.add(window)
                total += self.weights[i]
        return total - self.profile.fn * sum(1 for w in self.scored_windows if w not in detected)
