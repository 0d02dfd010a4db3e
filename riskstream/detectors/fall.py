"""``fall``: a person going down (``video.person_down``, critical); scored only while the camera's
motion gate sees movement."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class FallSpec(SpecBase):
    type: Literal["fall"] = "fall"
    drop_reference: float = Field(0.4, gt=0, description="Drop of the head, in body heights, scoring 0.5.")


def build(spec: FallSpec, ctx: Context) -> Any:
    from riskstream.models.video.fall import FallDetector

    return FallDetector(fps=ctx.fps, drop_reference=spec.drop_reference)


PLUGIN = Plugin(FallSpec, build, feeds="frame", event="video.person_down", severity=Severity.CRITICAL,
                places=frozenset({"camera"}), gated=True)
