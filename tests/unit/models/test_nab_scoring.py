"""NAB scoring rules on small hand-computed cases (the full reproduction of NAB's published
scores is in tests/evaluation/test_nab_reproduction.py)."""

import math

import pytest

from riskstream.evaluation.nab_scoring import (
    PROFILES,
    normalised,
    probation_rows,
    row_weights,
    scaled_sigmoid,
    score_file,
    window_labels,
)

STD = PROFILES["standard"]


def test_sigmoid_and_probation() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0
    assert probation_rows(1000) == 150
    assert probation_rows(100000) == 750


def test_earliest_detection_in_window_counts_once() -> None:
    n, windows = 1000, [(500, 599)]
    labels = window_labels(n, windows)
    early = [0.0] * n
    early[500] = early[550] = 1.0
    s = score_file(early, labels, windows, 1.0, STD)
    assert s.score == pytest.approx(1.0)  # left edge = full A_TP, the second hit is ignored
    assert (s.tp, s.fp, s.detected_windows) == (2, 0, 1)
    late = [0.0] * n
    late[599] = 1.0
    assert score_file(late, labels, windows, 1.0, STD).score == pytest.approx(
        scaled_sigmoid(-1 / 100) / scaled_sigmoid(-1.0)
    )


def test_false_positives_and_misses() -> None:
    n, windows = 1000, [(500, 599)]
    labels = window_labels(n, windows)
    scores = [0.0] * n
    scores[300] = 1.0  # before any window: -A_FP
    scores[700] = 1.0  # 101 rows past the end of a 100-row window: A_FP * S(101 / 99)
    s = score_file(scores, labels, windows, 1.0, STD)
    assert s.score == pytest.approx(-0.11 + 0.11 * scaled_sigmoid(101 / 99) - 1.0)
    assert s.detected_windows == 0
    # Probation rows are never scored.
    early = [0.0] * n
    early[10] = 1.0
    assert score_file(early, labels, windows, 1.0, STD).score == pytest.approx(-1.0)


def test_weights_mark_window_membership() -> None:
    weights, window_of = row_weights(10, [(3, 5)], STD)
    assert window_of == [-1, -1, -1, 3, 3, 3, -1, -1, -1, -1]
    assert weights[0] == -0.11 and weights[3] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("detector", "raw", "expected"),
    [
        # Whole-corpus raw totals from the NAB README (116 windows) -> final_results.json.
        (
            "numenta",
            {"standard": 46.6344501971, "reward_low_FN_rate": 26.6344501971},
            {"standard": 70.1, "reward_low_FN_rate": 74.3},
        ),
        (
            "null",
            {"standard": -116.0, "reward_low_FN_rate": -232.0},
            {"standard": 0.0, "reward_low_FN_rate": 0.0},
        ),
    ],
)
def test_normalisation(detector: str, raw: dict[str, float], expected: dict[str, float]) -> None:
    for profile, value in raw.items():
        assert normalised(value, 116, PROFILES[profile]) == pytest.approx(expected[profile], abs=0.1)
