"""``stuck``: a value that stays flat for too long, a frozen transmitter (``sensor.stuck``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class StuckSpec(SpecBase):
    type: Literal["stuck"] = "stuck"
    window_s: float = Field(gt=0, description="How long the value must stay flat to count as stuck.")
    min_change: float = Field(ge=0, description="Smallest movement over the window that is not flat.")


def build(spec: StuckSpec, ctx: Context) -> Any:
    from riskstream.models.sensor_rules import Stuck

    return Stuck(spec.window_s, spec.min_change)


PLUGIN = Plugin(StuckSpec, build, feeds="sample", event="sensor.stuck", severity=Severity.WARNING,
                places=frozenset({"sensor"}), gated=False)
