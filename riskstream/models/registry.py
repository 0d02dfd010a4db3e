"""Detectors from config: a discriminated union on ``type``, and ONNX models found by reference.

A model reference is ``name@version`` and resolves to ``<models root>/<name>/<version>/``
(``model.onnx`` + ``card.json``); the card, not the data, says how to feed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskstream.config.detectors import (
    DetectorSpec,
    FallSpec,
    KnnLikelihoodSpec,
    LevelSpec,
    RangeSpec,
    RateSpec,
    SceneModelSpec,
    SilenceSpec,
    StuckSpec,
    TamperSpec,
    WindowModelSpec,
    ZoneMotionSpec,
)
from riskstream.models.card import CardError
from riskstream.models.onnx_model import OnnxModel

__all__ = ["DetectorSpec", "build", "resolve_model"]

DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[2] / "models"


def resolve_model(ref: str, root: Path | None = None) -> Path:
    name, sep, version = ref.partition("@")
    if not sep or not name or not version:
        raise CardError(f"model reference {ref!r} must be name@version")
    directory = (root or DEFAULT_MODELS_ROOT) / name / version
    if not directory.is_dir():
        raise CardError(f"model {ref}: no artifact at {directory}")
    return directory


def build(
    spec: Any,
    *,
    fps: float = 5.0,
    started_at: float | None = None,
    zones: dict[str, Any] | None = None,
    exclude: list[list[tuple[float, float]]] | None = None,
    models_root: Path | None = None,
) -> Any:
    """A fresh detector for ``spec`` (video detectors need the analysis ``fps``; zone motion the
    zones and exclusion masks)."""
    from riskstream.models import sensor_rules, streaming, window_model
    from riskstream.models.video import fall, motion, scene, tamper

    match spec:
        case LevelSpec():
            return sensor_rules.LevelAlarm(spec.thresholds)
        case RateSpec():
            return sensor_rules.RateOfChange(spec.max_per_s)
        case StuckSpec():
            return sensor_rules.Stuck(spec.window_s, spec.min_change)
        case RangeSpec():
            return sensor_rules.Implausible(spec.min, spec.max)
        case SilenceSpec():
            return sensor_rules.Silence(spec.timeout_s, started_at)
        case KnnLikelihoodSpec():
            return streaming.KnnLikelihood(embed=spec.embed, memory=spec.memory, quarantine=spec.quarantine)
        case WindowModelSpec():
            return window_model.WindowModelDetector(
                OnnxModel(resolve_model(spec.model, models_root)), spec.level_half_life)
        case SceneModelSpec():
            return scene.SceneAnomalyDetector(OnnxModel(resolve_model(spec.model, models_root)))
        case ZoneMotionSpec():
            return motion.ZoneMotion(
                zones or {"frame": [(0, 0), (1, 0), (1, 1), (0, 1)]}, spec.reference, exclude
            )
        case TamperSpec():
            return tamper.TamperDetector(fps=fps, frozen_s=spec.frozen_s)
        case FallSpec():
            return fall.FallDetector(fps=fps, drop_reference=spec.drop_reference)
    raise TypeError(f"not a detector spec: {spec!r}")
