"""Sliding windows of multivariate rows, standardised with constants from a model card, and the
trailing mean a streaming detector smooths its scores with."""

from __future__ import annotations

import numpy as np

from riskstream.models.base import DetectorInputError, FloatArray


def standardize(rows: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    return np.asarray((rows - mean) / std, dtype=np.float32)


def sliding(rows: FloatArray, window: int) -> FloatArray:
    """[T, F] rows -> [T - window + 1, window * F] flattened windows (oldest row first)."""
    if rows.ndim != 2:
        raise DetectorInputError(f"expected rows x features, got shape {rows.shape}")
    if len(rows) < window:
        raise DetectorInputError(f"need at least {window} rows for one window, got {len(rows)}")
    idx = np.arange(window)[None, :] + np.arange(len(rows) - window + 1)[:, None]
    return np.asarray(rows[idx].reshape(len(idx), -1), dtype=np.float32)


def fit_scaling(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-feature mean and std; a constant feature gets std 1 so it cannot divide by zero."""
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def trailing_mean(values: FloatArray, n: int) -> FloatArray:
    """At each position, the mean of the last ``n`` values up to it (fewer at the start): what
    a detector keeping a ``deque(maxlen=n)`` of its raw values reports."""
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    idx = np.arange(len(values))
    lo = np.maximum(0, idx - n + 1)
    return np.asarray((csum[idx + 1] - csum[lo]) / (idx + 1 - lo), dtype=np.float32)
