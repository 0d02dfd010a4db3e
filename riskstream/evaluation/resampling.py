"""How much a figure over a few files would move on other files like them: a bootstrap over
files (each round draws as many files as were scored, with replacement) and its paired form for
the difference between two detectors scored on the same files. Seeded, so a rerun repeats it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ROUNDS = 2000
LEVEL = 0.90


def interval(statistic: Callable[[np.ndarray], float], n_items: int, rounds: int = ROUNDS,
             level: float = LEVEL, seed: int = 0) -> tuple[float, float]:
    """The central ``level`` interval of ``statistic`` over resampled item indices (draws on
    which it is NaN, undefined, are left out)."""
    if n_items < 1:
        raise ValueError("a bootstrap needs at least one item")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n_items, n_items)) for _ in range(rounds)])
    values = values[np.isfinite(values)]  # a draw the statistic is undefined on (NaN) is left out
    if not len(values):
        raise ValueError("the statistic is undefined on every resampled draw")
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(values, [tail, 100.0 - tail])
    return round(float(lo), 2), round(float(hi), 2)


def corpus_interval(per_file: Sequence[float], weights: Sequence[int],
                    corpus: Callable[[float, int], float], seed: int = 0) -> tuple[float, float]:
    """Interval of a corpus figure built from per-file raw scores and per-file weights (NAB:
    ``corpus(sum of raw, sum of windows)``, the normalised score)."""
    raw, w = np.asarray(per_file, dtype=float), np.asarray(weights, dtype=int)
    return interval(lambda idx: corpus(float(raw[idx].sum()), int(w[idx].sum())), len(raw), seed=seed)


def paired_interval(a: Sequence[float], b: Sequence[float], weights: Sequence[int],
                    corpus: Callable[[float, int], float], seed: int = 0) -> tuple[float, float]:
    """Interval of ``corpus(a) - corpus(b)`` with both drawn on the same resampled files."""
    ra, rb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if ra.shape != rb.shape:
        raise ValueError("paired figures need the same files")
    w = np.asarray(weights, dtype=int)

    def diff(idx: np.ndarray) -> float:
        n = int(w[idx].sum())
        return corpus(float(ra[idx].sum()), n) - corpus(float(rb[idx].sum()), n)

    return interval(diff, len(ra), seed=seed)
