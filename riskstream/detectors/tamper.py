"""``tamper``: a camera covered, defocused, moved or frozen (``video.tamper``); scored on every
analysed frame, moving or not."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class TamperSpec(SpecBase):
    type: Literal["tamper"] = "tamper"
    frozen_s: float = Field(3.0, gt=0, description="Identical frames for this long = frozen picture.")


def build(spec: TamperSpec, ctx: Context) -> Any:
    from riskstream.models.video.tamper import TamperDetector

    return TamperDetector(fps=ctx.fps, frozen_s=spec.frozen_s)


PLUGIN = Plugin(TamperSpec, build, feeds="frame", event="video.tamper", severity=Severity.MAJOR,
                places=frozenset({"camera"}), gated=False)
