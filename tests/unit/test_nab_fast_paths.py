"""The threshold searches' fast paths give exactly what the slow, plain ones give: detection
starts from rising edges (against the threshold filter itself) and a file's score from the rows
that fired (against :func:`score_file`)."""

from __future__ import annotations

import numpy as np
import pytest

from riskstream.evaluation import nab
from riskstream.evaluation.nab_scoring import PROFILES, DetectionScorer, Profile, score_file
from riskstream.models.thresholding import ThresholdConfig, detections


def bursts(n: int, seed: int) -> np.ndarray:
    """Scores with runs above and below any threshold, as a detector's are."""
    rng = np.random.default_rng(seed)
    return np.clip(np.convolve(rng.random(n), np.ones(5) / 5, mode="same") + 0.3 * rng.random(n), 0, 1)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("cooldown", [0, 1, 7, 300])
def test_detection_starts_are_the_filters(seed: int, cooldown: int) -> None:
    scores = bursts(3000, seed)
    for threshold in (0.3, 0.55, 0.7, 0.9):
        cfg = ThresholdConfig(threshold=threshold, cooldown=cooldown)
        plain = [i for i, d in enumerate(detections(scores.tolist(), cfg)) if d]
        assert nab.detection_starts(scores, threshold, cfg) == plain


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("persistence", "at_once"), [(2, None), (3, None), (3, 0.9), (5, 0.8), (3, 0.3)])
def test_persistence_and_firing_at_once_are_the_filters(seed: int, persistence: int,
                                                        at_once: float | None) -> None:
    scores = bursts(3000, seed)
    scores[::97] = 1.0  # lone certainties: fire at once, or never make a run
    for threshold in (0.55, 0.7, 0.9):
        for cooldown in (0, 7, 300):
            cfg = ThresholdConfig(threshold=threshold, cooldown=cooldown, min_consecutive=persistence,
                                  fire_at_once=at_once)
            plain = [i for i, d in enumerate(detections(scores.tolist(), cfg)) if d]
            assert nab.detection_starts(scores, threshold, cfg) == plain


def test_a_filter_with_hysteresis_takes_the_plain_path() -> None:
    scores = bursts(2000, 9)
    cfg = ThresholdConfig(threshold=0.6, min_consecutive=3, hysteresis=0.1, cooldown=20)
    plain = [i for i, d in enumerate(detections(scores.tolist(), cfg)) if d]
    assert plain and nab.detection_starts(scores, 0.6, cfg) == plain


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
@pytest.mark.parametrize("seed", range(5))
def test_the_scorer_of_fired_rows_is_score_file(profile: Profile, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4000
    windows = [(300, 500), (1200, 1400), (3000, 3300)]  # the first within probation's reach
    labels = [0] * n
    for a, b in windows:
        labels[a:b + 1] = [1] * (b - a + 1)
    starts = sorted({int(i) for i in rng.integers(0, n, 40)})
    hits = [0.0] * n
    for i in starts:
        hits[i] = 1.0
    plain = score_file(hits, labels, windows, 1.0, profile)
    assert DetectionScorer(n, windows, profile).score(starts) == pytest.approx(plain.score)
