"""The detector registry: every plugin, the config types per place, and ``build``.

Adding a detector: a file here with its config (a :class:`~riskstream.detectors.plugin.SpecBase`
with a literal ``type``), its ``build`` and its ``PLUGIN``; list it in ``PLUGINS`` and in the
union of each place it may be configured (a test checks the unions against ``places``), and add
it to the contract suite (``tests/unit/models/test_contract.py``). The edge's sensor chain,
assets and cameras, and the evaluations, build every detector through :func:`build` and run it
through the one threshold step (:meth:`riskstream.models.thresholding.ThresholdFilter.step`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from riskstream.detectors import (
    fall,
    knn_likelihood,
    level,
    rate,
    scene_model,
    silence,
    stuck,
    tamper,
    valid_range,
    window_model,
    zone_motion,
)
from riskstream.detectors.fall import FallSpec
from riskstream.detectors.knn_likelihood import KnnLikelihoodSpec
from riskstream.detectors.level import LevelSpec
from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.detectors.rate import RateSpec
from riskstream.detectors.scene_model import SceneModelSpec
from riskstream.detectors.silence import SilenceSpec
from riskstream.detectors.stuck import StuckSpec
from riskstream.detectors.tamper import TamperSpec
from riskstream.detectors.valid_range import RangeSpec
from riskstream.detectors.window_model import WindowModelSpec
from riskstream.detectors.zone_motion import ZoneMotionSpec

__all__ = [
    "PLUGINS", "AssetDetectorSpec", "CameraDetectorSpec", "Context", "DetectorSpec", "FallSpec",
    "KnnLikelihoodSpec", "LevelSpec", "Plugin", "RangeSpec", "RateSpec", "SceneModelSpec",
    "SensorDetectorSpec", "SilenceSpec", "SpecBase", "StuckSpec", "TamperSpec", "WindowModelSpec",
    "ZoneMotionSpec", "build", "plugin_of",
]

PLUGINS: dict[str, Plugin] = {
    p.type: p
    for p in (level.PLUGIN, rate.PLUGIN, stuck.PLUGIN, valid_range.PLUGIN, silence.PLUGIN,
              knn_likelihood.PLUGIN, window_model.PLUGIN, scene_model.PLUGIN, zone_motion.PLUGIN,
              tamper.PLUGIN, fall.PLUGIN)
}

DetectorSpec = Annotated[
    LevelSpec | RateSpec | StuckSpec | RangeSpec | SilenceSpec | KnnLikelihoodSpec | WindowModelSpec
    | SceneModelSpec | ZoneMotionSpec | TamperSpec | FallSpec,
    Field(discriminator="type"),
]
SensorDetectorSpec = Annotated[
    RateSpec | StuckSpec | SilenceSpec | KnnLikelihoodSpec, Field(discriminator="type")
]
CameraDetectorSpec = Annotated[
    SceneModelSpec | ZoneMotionSpec | TamperSpec | FallSpec, Field(discriminator="type")
]
AssetDetectorSpec = WindowModelSpec  # an asset takes one detector: its window model


def plugin_of(spec: SpecBase) -> Plugin:
    """The plugin of a detector config."""
    found = PLUGINS.get(str(getattr(spec, "type", "")))
    if found is None or not isinstance(spec, found.spec):
        raise TypeError(f"not a detector spec: {spec!r}")
    return found


def build(spec: SpecBase, context: Context | None = None) -> Any:
    """A fresh detector for ``spec``."""
    return plugin_of(spec).build(spec, context or Context())
