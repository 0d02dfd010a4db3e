"""``scene_model``: an ONNX scene-anomaly model of one camera's normal footage (``video.anomaly``);
scored on every analysed frame (the speed model's flow needs consecutive frames: after frames
skipped by the motion gate, the gap read as speed; it costs about a millisecond a frame)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.config.thresholds import ThresholdConfig
from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity

# Two analysed frames in a row at 0.5: chosen by the cross-validation on Ped2's training clips
# (riskstream/evaluation/ped2_cv.py, protocol version 3): a single frame at 0.5 fired 5 times
# on 2,534 held-out normal frames (about 70 an hour of footage), two in a row never, with the
# same pasted cyclists, skaters and carts found (89 of 96).
DEFAULT_FILTER = ThresholdConfig(threshold=0.5, min_consecutive=2)


class SceneModelSpec(SpecBase):
    type: Literal["scene_model"] = "scene_model"
    model: str = Field(description="ONNX artifact as name@version, under the models root.")
    threshold: ThresholdConfig = Field(default_factory=lambda: DEFAULT_FILTER,
                                       description="How scores become detections.")


def build(spec: SceneModelSpec, ctx: Context) -> Any:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.onnx_model import OnnxModel
    from riskstream.models.video.scene import SceneAnomalyDetector

    return SceneAnomalyDetector(OnnxModel(resolve_model(spec.model, ctx.models_root)), fps=ctx.fps)


PLUGIN = Plugin(SceneModelSpec, build, feeds="frame", event="video.anomaly", severity=Severity.WARNING,
                places=frozenset({"camera"}), gated=False)
