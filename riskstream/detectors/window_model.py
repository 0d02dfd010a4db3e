"""``window_model``: a multivariate ONNX window model over an asset's channels
(``sensor.anomaly`` of the asset, with each channel's contribution)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class WindowModelSpec(SpecBase):
    type: Literal["window_model"] = "window_model"
    model: str = Field(description="ONNX artifact as name@version, under the models root.")
    level_half_life: float | None = Field(
        None, gt=0, description="Follow the plant's drifting operating level with this half-life "
        "in readings, learning only from readings not flagged; unset: the training level.")


def build(spec: WindowModelSpec, ctx: Context) -> Any:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.onnx_model import OnnxModel
    from riskstream.models.window_model import WindowModelDetector

    return WindowModelDetector(OnnxModel(resolve_model(spec.model, ctx.models_root)), spec.level_half_life)


PLUGIN = Plugin(WindowModelSpec, build, feeds="row", event="sensor.anomaly", severity=Severity.WARNING,
                places=frozenset({"asset"}), gated=False)
