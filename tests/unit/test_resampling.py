"""The file bootstrap behind NAB's intervals: deterministic, zero-width when files agree, and a
detector's difference to itself is exactly zero."""

from __future__ import annotations

import pytest

from riskstream.evaluation import nab
from riskstream.evaluation.nab_scoring import PROFILES, normalised
from riskstream.evaluation.resampling import corpus_interval, interval, paired_interval


def mean_rate(raw: float, n: int) -> float:
    return raw / n


def test_files_that_agree_give_a_zero_width_interval() -> None:
    assert corpus_interval([2.0, 2.0, 2.0], [1, 1, 1], mean_rate) == (2.0, 2.0)


def test_the_interval_widens_with_disagreeing_files_and_repeats_with_its_seed() -> None:
    lo, hi = corpus_interval([0.0, 1.0, 0.0, 1.0, 0.5], [1] * 5, mean_rate)
    assert 0.0 <= lo < 0.5 < hi <= 1.0
    assert corpus_interval([0.0, 1.0, 0.0, 1.0, 0.5], [1] * 5, mean_rate) == (lo, hi)


def test_a_detector_minus_itself_is_zero_and_a_constant_gain_is_seen() -> None:
    a = [0.3, -1.0, 0.8]
    assert paired_interval(a, a, [1, 2, 1], mean_rate) == (0.0, 0.0)
    lo, hi = paired_interval([x + 1.0 for x in a], a, [1, 1, 1], mean_rate)
    assert lo == hi == 1.0  # one more raw point per window on every file, whatever the draw


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        interval(lambda idx: 0.0, 0)
    with pytest.raises(ValueError):
        paired_interval([1.0], [1.0, 2.0], [1], mean_rate)


def test_nab_intervals_hold_the_figure_and_use_the_windows() -> None:
    files = [nab.Series(f"t/{i}.csv", [], [], [(0, 0)] * w) for i, w in enumerate((1, 3, 2))]
    per_file = [1.0, -3.0, 0.5]  # raw standard scores
    whole = normalised(sum(per_file), 6, PROFILES["standard"])
    lo, hi = nab.file_interval(files, per_file, "standard")
    assert lo <= whole <= hi and lo < hi
    assert nab.difference_interval(files, per_file, per_file) == (0.0, 0.0)


def test_files_without_windows_are_scored_and_never_divide_by_zero() -> None:
    """NAB's artificialNoAnomaly files have no window: a draw of only such files has no
    normalised score and is left out (it divided by zero)."""
    files = [nab.Series("artificialNoAnomaly/a.csv", [], [], []),
             nab.Series("realKnownCause/b.csv", [], [], [(0, 0)])]
    lo, hi = nab.file_interval(files, [-0.11, 0.5], "standard")
    assert lo <= hi
    with pytest.raises(ValueError, match="undefined"):
        interval(lambda idx: float("nan"), 3)
