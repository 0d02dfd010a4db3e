"""Detector settings in the deployment YAML: a discriminated union on ``type``.

Built into detector objects by :mod:`riskstream.models.registry`; each carries the threshold
filter that turns its scores into detections (:mod:`riskstream.models.thresholding`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from riskstream.config.base import Strict
from riskstream.config.thresholds import AlarmThresholds


class ThresholdConfig(Strict):
    threshold: float = Field(ge=0.0, le=1.0, description="Score at or above which an input is anomalous.")
    hysteresis: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="How far below the threshold a score must "
        "fall before the filter re-arms (no flapping around the threshold).",
    )
    min_consecutive: int = Field(1, ge=1, description="Inputs in a row at/above threshold before firing.")
    cooldown: int = Field(0, ge=0, description="Inputs after a detection during which no new one fires.")


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
    level_half_life: float | None = Field(
        None, gt=0, description="Follow the plant's drifting operating level with this half-life "
        "in readings, learning only from readings not flagged; unset: the training level.")


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


CameraDetectorSpec = Annotated[
    SceneModelSpec | ZoneMotionSpec | TamperSpec | FallSpec,
    Field(discriminator="type"),
]


SensorDetectorSpec = Annotated[
    RateSpec | StuckSpec | SilenceSpec | KnnLikelihoodSpec,
    Field(discriminator="type"),
]
