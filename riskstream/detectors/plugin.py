"""The detector plugin contract: one file per detector holds its config and its factory.

A plugin says what its detector is fed (``feeds``), where a deployment may configure it
(``places``), what event its detections become, and how to build the detector from its
config (``build``). Detectors themselves live in :mod:`riskstream.models` (pure scoring); the
threshold filter that turns scores into detections, and owns what an online detector may learn,
is :mod:`riskstream.models.thresholding`. Plugins import the models only inside ``build``, so
loading a configuration never loads numpy, OpenCV or onnxruntime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from riskstream.config.base import Strict
from riskstream.config.thresholds import ThresholdConfig
from riskstream.events import Severity

Polygon = Sequence[tuple[float, float]]
# What the detector's score() takes: a timestamped sample, a bare value, the time (silence),
# a working frame, a frame scored per zone, or an asset's row of channels.
Feeds = Literal["sample", "value", "clock", "frame", "zones", "row"]
# Where the deployment YAML may put it: a sensor's, a camera's or an asset's detectors.
Place = Literal["sensor", "camera", "asset"]


class SpecBase(Strict):
    """Every detector's config: its ``type`` (the plugin's name) and its threshold filter."""

    threshold: ThresholdConfig = Field(
        default_factory=lambda: ThresholdConfig(threshold=0.5), description="How scores become detections."
    )


@dataclass(frozen=True, slots=True)
class Context:
    """What a detector may need besides its own config."""

    fps: float = 5.0  # the camera's analysis rate
    started_at: float | None = None  # when the agent started (silence counts from here)
    zones: Mapping[str, Polygon] | None = None  # the camera's zones (zone motion)
    exclude: Sequence[Polygon] | None = None  # the camera's exclusion masks
    models_root: Path | None = None  # where name@version model artifacts are found


@dataclass(frozen=True, slots=True)
class Plugin:
    spec: type[SpecBase]
    build: Callable[[Any, Context], Any]
    feeds: Feeds
    event: str  # the event kind its detections raise
    severity: Severity
    places: frozenset[Place] = field(default_factory=frozenset)  # none: a library detector only
    gated: bool = False  # video: scored only while the camera's motion gate sees movement

    @property
    def type(self) -> str:
        return str(self.spec.model_fields["type"].default)
