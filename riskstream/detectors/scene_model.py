"""``scene_model``: an ONNX scene-anomaly model of one camera's normal footage (``video.anomaly``);
scored on every analysed frame (the speed model's flow needs consecutive frames: after frames
skipped by the motion gate, the gap read as speed; it costs about a millisecond a frame)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class SceneModelSpec(SpecBase):
    type: Literal["scene_model"] = "scene_model"
    model: str = Field(description="ONNX artifact as name@version, under the models root.")


def build(spec: SceneModelSpec, ctx: Context) -> Any:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.onnx_model import OnnxModel
    from riskstream.models.video.scene import SceneAnomalyDetector

    return SceneAnomalyDetector(OnnxModel(resolve_model(spec.model, ctx.models_root)), fps=ctx.fps)


PLUGIN = Plugin(SceneModelSpec, build, feeds="frame", event="video.anomaly", severity=Severity.WARNING,
                places=frozenset({"camera"}), gated=False)
