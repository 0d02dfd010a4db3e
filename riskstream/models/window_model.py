"""The learned multivariate sensor detector: a window autoencoder served from its ONNX artifact.

Training (:func:`train_window_model`) standardises normal rows, cross-fits one autoencoder per
fold of them, calibrates the score on their out-of-fold errors (the error at ``quantile`` maps
to score 0.5), exports the ensemble as one graph and writes ``model.onnx`` + ``card.json``. Scoring
(:class:`WindowModelDetector`) reads everything from the card.

Plants drift: the normal operating level after a few minutes (or after a repaired fault) is
not the one of the training rows. With ``level_half_life`` the detector is online: it follows
the operating level (a per-feature offset, an exponential average with that half-life in
inputs) learning only from inputs it did not flag
(:meth:`riskstream.models.thresholding.ThresholdFilter.step`),
so a fault that persists is not learned as the new normal.
"""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.models import autoencoder
from riskstream.models.base import DetectorInputError, FloatArray, clip_score, finite_array
from riskstream.models.card import (
    Calibration,
    CardError,
    ModelCard,
    Preprocessing,
    TensorSpec,
)
from riskstream.models.onnx_export import save_artifact
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.windows import fit_scaling, sliding, standardize


def error_to_score(error: FloatArray | float, reference: float) -> FloatArray:
    """Reconstruction error -> [0, 1]; the calibration reference maps to 0.5."""
    e = np.maximum(np.asarray(error, dtype=np.float64), 0.0)
    return np.asarray(e / (e + reference), dtype=np.float32)


def fold_bounds(n_rows: int, folds: int) -> list[tuple[int, int]]:
    """``folds`` contiguous blocks of rows: time order is kept, so a held-out block is a stretch
    of operation the other networks never saw, not rows interleaved with theirs."""
    edges = np.linspace(0, n_rows, folds + 1).astype(int)
    return list(itertools.pairwise(int(e) for e in edges))


def windows_outside(scaled: FloatArray, blocks: list[tuple[int, int]], held: int, window: int) -> FloatArray:
    """Windows of the rows before and after block ``held``; none crosses the held-out block."""
    lo, hi = blocks[held]
    parts = [scaled[:lo], scaled[hi:]]
    return np.concatenate([sliding(p, window) for p in parts if len(p) >= window])


def cross_fit(
    scaled: FloatArray, window: int, folds: int, *, epochs: int, seed: int
) -> tuple[list[autoencoder.AutoencoderWeights], FloatArray]:
    """One network per fold, each fit on the other folds; returns the networks and every
    fold's errors as scored by the network that did not see it (out-of-fold errors)."""
    blocks = fold_bounds(len(scaled), folds)
    members, errors = [], []
    for k, (lo, hi) in enumerate(blocks):
        w = autoencoder.fit(windows_outside(scaled, blocks, k, window), epochs=epochs, seed=seed * 1000 + k)
        members.append(w)
        errors.append(autoencoder.reconstruction_error(w, sliding(scaled[lo:hi], window)))
    return members, np.concatenate(errors)


def train_window_model(
    rows: FloatArray,
    features: list[str],
    out_dir: Path,
    *,
    name: str,
    version: str,
    window: int = 10,
    quantile: float = 0.99,
    min_consecutive: int = 1,
    training: dict[str, Any] | None = None,
    epochs: int = 400,
    seed: int = 0,
    folds: int = 5,
) -> ModelCard:
    """Cross-fitted: the normal rows are cut into ``folds`` contiguous blocks and one network
    is fit per block on the others. Every row then has an error from a network that never saw
    it, so the threshold is calibrated on all the rows (errors on seen windows are optimistic
    and would put it too low), and the served model is the ensemble of the networks (the mean
    of their errors), which also evens out one training run's luck."""
    rows = finite_array(rows, (None, len(features)), "training rows")
    if folds < 2:
        raise DetectorInputError(f"folds must be >= 2 to calibrate on unseen rows, got {folds}")
    if len(rows) < folds * window:
        raise DetectorInputError(
            f"{len(rows)} rows are too few to train and calibrate {folds} folds of windows of {window}"
        )
    mean, std = fit_scaling(rows)
    members, errors = cross_fit(standardize(rows, mean, std), window, folds, epochs=epochs, seed=seed)
    return save_artifact(
        out_dir,
        autoencoder.to_onnx(members),
        name=name,
        version=version,
        task="multivariate sensor anomaly (window autoencoder)",
        input=TensorSpec(
            name="window",
            shape=["batch", window * len(features)],
            layout="batch, window rows (oldest first) x features, standardised",
        ),
        output=TensorSpec(name="error", shape=["batch"], layout="batch"),
        output_meaning=f"mean squared reconstruction error of the window, averaged over the {folds} "
        "cross-fitted networks; score = e / (e + calibration.error_reference), so 0.5 = the "
        "quantile of the out-of-fold errors of the normal rows",
        preprocessing=Preprocessing(
            kind="standardized_window",
            window=window,
            features=features,
            mean=[float(v) for v in mean],
            std=[float(v) for v in std],
        ),
        calibration=Calibration(
            error_reference=max(float(np.quantile(errors, quantile)), 1e-9),
            quantile=quantile,
            min_consecutive=min_consecutive,
        ),
        training={
            "rows": len(rows),
            "folds": folds,
            "calibration": "out-of-fold errors of every training row",
            "epochs": epochs,
            "seed": seed,
            **(training or {}),
        },
    )


class WindowModelDetector:
    """Streaming: ``score(row)`` with the newest row; it keeps the previous rows as context.

    ``learn(row)`` (after an unflagged score) moves the followed operating level towards the
    row when ``level_half_life`` is set; otherwise learning is a no-op and the level is the
    training data's.
    """

    def __init__(self, model: OnnxModel, level_half_life: float | None = None) -> None:
        pre = model.card.preprocessing
        if pre.kind != "standardized_window" or len(pre.mean) != len(pre.features) != len(pre.std):
            raise CardError(f"{model.directory}: not a standardised-window model card")
        if level_half_life is not None and level_half_life <= 0:
            raise ValueError(f"level_half_life must be > 0 inputs, got {level_half_life}")
        self.model = model
        self.name = model.card.model_ref
        self.window = pre.window
        self._mean = np.asarray(pre.mean, dtype=np.float32)
        self._std = np.asarray(pre.std, dtype=np.float32)
        self._context: deque[FloatArray] = deque(maxlen=self.window)
        self._rate = 0.0 if level_half_life is None else 1.0 - 0.5 ** (1.0 / level_half_life)
        self.level_offset = np.zeros_like(self._mean)  # followed level minus training mean

    @property
    def n_features(self) -> int:
        return len(self._mean)

    def warmup(self) -> None:
        self.model.warmup()

    def _errors(self, rows: FloatArray) -> FloatArray:
        return self.model.run(sliding(standardize(rows, self._mean, self._std), self.window))

    def score(self, x: Any) -> float:
        row = finite_array(x, (self.n_features,), f"{self.name} row")
        self._context.append(row)
        if len(self._context) < self.window:
            return 0.0
        err = self._errors(np.stack(list(self._context)) - self.level_offset)[0]
        return clip_score(float(error_to_score(err, self.model.card.calibration.error_reference)))

    def contributions(self) -> list[float]:
        """Each feature's share of the current window's error: how much of it goes away when
        that feature is replaced by its (followed) normal level, normalised to sum to 1 (all
        zeros before the first full window or when no feature lowers the error)."""
        n = self.n_features
        if len(self._context) < self.window:
            return [0.0] * n
        scaled = standardize(np.stack(list(self._context)) - self.level_offset, self._mean, self._std)
        variants = [scaled]
        for f in range(n):
            occluded = scaled.copy()
            occluded[:, f] = 0.0  # the normal level, standardised
            variants.append(occluded)
        errors = self.model.run(np.concatenate([sliding(v, self.window) for v in variants]))
        drops = np.maximum(float(errors[0]) - np.asarray(errors[1:], dtype=np.float64), 0.0)
        total = float(drops.sum())
        return [float(d / total) if total > 0 else 0.0 for d in drops]

    def learn(self, x: Any) -> None:
        if self._rate:
            row = finite_array(x, (self.n_features,), f"{self.name} row")
            self.level_offset += np.float32(self._rate) * (row - self._mean - self.level_offset)

    def advance(self, x: Any) -> None:
        """A flagged row: already in the context; the followed level stays where it was."""

    def score_series(self, rows: Any) -> FloatArray:
        """Scores for a whole [T, F] series at once at the training level (evaluation of the
        fixed-level model); the first window-1 rows score 0."""
        arr = finite_array(rows, (None, self.n_features), f"{self.name} series")
        if len(arr) < self.window:
            raise DetectorInputError(f"{self.name}: series of {len(arr)} rows is shorter than the window")
        scores = error_to_score(self._errors(arr), self.model.card.calibration.error_reference)
        return np.concatenate([np.zeros(self.window - 1, dtype=np.float32), scores])
