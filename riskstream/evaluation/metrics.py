"""Point-wise detection metrics and ROC AUC (pure numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np


def binary_rates(pred: Any, labels: Any) -> dict[str, float]:
    """F1, false-alarm rate (FP / negatives) and missed-alarm rate (FN / positives)."""
    p, y = np.asarray(pred).astype(bool), np.asarray(labels).astype(bool)
    tp, fp = int((p & y).sum()), int((p & ~y).sum())
    fn, tn = int((~p & y).sum()), int((~p & ~y).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "f1": round(f1, 4),
        "far": round(fp / max(fp + tn, 1), 4),
        "mar": round(fn / max(fn + tp, 1), 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve via the rank statistic (ties share their mean rank)."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both positive and negative labels")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def seed_spread(values: list[float], worst_is_low: bool) -> dict[str, float]:
    """A figure over training seeds: mean, population standard deviation and the worst seed's
    value (the lowest for a detection rate or F1, the highest for a false-alarm rate)."""
    arr = np.asarray(values, dtype=float)
    return {"mean": round(float(arr.mean()), 4), "sd": round(float(arr.std()), 4),
            "worst": float(arr.min() if worst_is_low else arr.max())}
