"""Detectors from config: a discriminated union on ``type``, and ONNX models found by reference.

A model reference is ``name@version`` and resolves to ``<models root>/<name>/<version>/``
(``model.onnx`` + ``card.json``); the card, not the data, says how to feed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from riskstream.config.base import Strict
from riskstream.config.schema import AlarmThresholds
from riskstream.models.card import CardError
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.thresholding import ThresholdConfig

DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[2] / "models"


class _Base(Strict):
    threshold: ThresholdConfig = Field(
        default_factory=lambda: ThresholdConfig(threshold=0.5), description="How scores become detections."
    )


class LevelSpec(_Base):
    type: Literal["level"] = "level"
    thresholds: AlarmThresholds = Field(description="Warning and alarm levels with deadband.")


class RateSpec(_Base):
    type: Literal["rate"] = "rate"
    max_per_s: float = Field(gt=0, description="Largest normal change per second (unit/s).")


class StuckSpec(_Base):
    type: Literal["stuck"] = "stuck"
    window_s: float = Field(gt=0, description="How long the value must stay flat to count as stuck.")
    min_change: float = Field(ge=0, description="Smallest movement over the window that is not flat.")


class RangeSpec(_Base):
    type: Literal["range"] = "range"
    min: float = Field(description="Lowest physically possible value.")
    max: float = Field(description="Highest physically possible value.")


class SilenceSpec(_Base):
    type: Literal["silence"] = "silence"
    timeout_s: float = Field(gt=0, description="Seconds without data that count as silence (score 0.5).")


class KnnLikelihoodSpec(_Base):
    type: Literal["knn_likelihood"] = "knn_likelihood"
    embed: int = Field(8, ge=2, description="Values per sub-sequence.")
    memory: int = Field(3000, ge=100, description="Sub-sequences kept as the memory of normal.")
    quarantine: int = Field(200, ge=0, description="Points a flagged value waits before it may be learned.")


class WindowModelSpec(_Base):
    type: Literal["window_model"] = "window_model"
    model: str = Field(description="ONNX artifact as name@version, under the models root.")


class SceneModelSpec(_Base):
    type: Literal["scene_model"] = "scene_model"
    model: str = Field(description="ONNX artifact as name@version, under the models root.")


class ZoneMotionSpec(_Base):
    type: Literal["zone_motion"] = "zone_motion"
    reference: float = Field(0.02, gt=0, lt=1, description="Foreground share of a zone that scores 0.5.")


class TamperSpec(_Base):
    type: Literal["tamper"] = "tamper"
    frozen_s: float = Field(3.0, gt=0, description="Identical frames for this long = frozen picture.")


class FallSpec(_Base):
    type: Literal["fall"] = "fall"
    drop_reference: float = Field(0.4, gt=0, description="Drop of the head, in body heights, scoring 0.5.")


DetectorSpec = Annotated[
    LevelSpec
    | RateSpec
    | StuckSpec
    | RangeSpec
    | SilenceSpec
    | KnnLikelihoodSpec
    | WindowModelSpec
    | SceneModelSpec
    | ZoneMotionSpec
    | TamperSpec
    | FallSpec,
    Field(discriminator="type"),
]


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
    started_at: float = 0.0,
    zones: dict[str, Any] | None = None,
    models_root: Path | None = None,
) -> Any:
    """A fresh detector for ``spec`` (video detectors need the analysis ``fps``; zone motion the zones)."""
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
            return window_model.WindowModelDetector(OnnxModel(resolve_model(spec.model, models_root)))
        case SceneModelSpec():
            return scene.SceneAnomalyDetector(OnnxModel(resolve_model(spec.model, models_root)))
        case ZoneMotionSpec():
            return motion.ZoneMotion(zones or {"frame": [(0, 0), (1, 0), (1, 1), (0, 1)]}, spec.reference)
        case TamperSpec():
            return tamper.TamperDetector(fps=fps, frozen_s=spec.frozen_s)
        case FallSpec():
            return fall.FallDetector(fps=fps, drop_reference=spec.drop_reference)
    raise TypeError(f"not a detector spec: {spec!r}")
