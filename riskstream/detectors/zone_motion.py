"""``zone_motion``: movement inside a camera's zones, minus its exclusion masks, one incident per
zone: ``video.motion``, or ``video.intrusion`` (major) in a restricted zone."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class ZoneMotionSpec(SpecBase):
    type: Literal["zone_motion"] = "zone_motion"
    reference: float = Field(0.02, gt=0, lt=1, description="Foreground share of a zone that scores 0.5.")


def build(spec: ZoneMotionSpec, ctx: Context) -> Any:
    from riskstream.models.video.motion import ZoneMotion

    whole_frame = {"frame": [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]}
    zones = {name: list(poly) for name, poly in (ctx.zones or whole_frame).items()}
    return ZoneMotion(zones, spec.reference, [list(p) for p in ctx.exclude or []])


PLUGIN = Plugin(ZoneMotionSpec, build, feeds="zones", event="video.motion", severity=Severity.INFO,
                places=frozenset({"camera"}), gated=False)
