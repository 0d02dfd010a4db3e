"""The detector contract shared by every sensor and video detector.

A :class:`Detector` scores one input; an :class:`OnlineDetector` also ``learn``s from inputs it
did not flag and ``advance``s past the ones it did (its context moves on, its notion of normal
does not). :meth:`riskstream.models.thresholding.ThresholdFilter.step` is the one step that
enforces that rule (the threshold filter owns what may be learned).
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class DetectorInputError(ValueError):
    """The input cannot be scored (NaN, wrong shape, out-of-order time): say why, never guess."""


@runtime_checkable
class Detector(Protocol):
    """Scores inputs; higher = more anomalous, always within [0, 1]."""

    name: str

    def warmup(self) -> None:
        """Prepare for the first score (load a model, run one dummy inference)."""

    def score(self, x: Any) -> float:
        """Anomaly score of ``x`` in [0, 1]."""


@runtime_checkable
class OnlineDetector(Detector, Protocol):
    """A detector that keeps learning what normal looks like while it runs."""

    def learn(self, x: Any) -> None:
        """Take ``x`` (just scored, not flagged) as normal."""

    def advance(self, x: Any) -> None:
        """Move past ``x`` (just scored and flagged) without learning from it."""


@runtime_checkable
class ExplainingDetector(Detector, Protocol):
    """A detector made of several checks that says which one drove its last score (a tamper
    detector: covered, defocus, view_shift or frozen); the edge puts it in the event."""

    @property
    def reason(self) -> str:
        """The check behind the last score, or "" before the first."""


def clip_score(value: float) -> float:
    """A score forced into [0, 1]; NaN is a bug in the detector, so it raises."""
    if math.isnan(value):
        raise ArithmeticError("detector produced NaN")
    return min(1.0, max(0.0, value))


def finite_scalar(x: Any) -> float:
    """A univariate input as a finite float, or a clear error."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise DetectorInputError(f"expected a number, got {type(x).__name__}") from None
    if not math.isfinite(value):
        raise DetectorInputError(f"expected a finite number, got {value}")
    return value


def finite_array(x: Any, shape: tuple[int | None, ...], what: str) -> FloatArray:
    """``x`` as float32 of ``shape`` (None = any length) with no NaN/inf, or a clear error."""
    arr = np.asarray(x, dtype=np.float32)
    wrong = any(want is not None and got != want for got, want in zip(arr.shape, shape, strict=False))
    if arr.ndim != len(shape) or wrong:
        raise DetectorInputError(f"{what}: expected shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise DetectorInputError(f"{what}: input contains NaN or infinite values")
    return arr
