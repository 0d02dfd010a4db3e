"""``silence``: a sensor that stopped sending (``sensor.offline``), checked on the agent's timer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class SilenceSpec(SpecBase):
    type: Literal["silence"] = "silence"
    timeout_s: float = Field(gt=0, description="Seconds without data that count as silence (score 0.5).")


def build(spec: SilenceSpec, ctx: Context) -> Any:
    from riskstream.models.sensor_rules import Silence

    return Silence(spec.timeout_s, ctx.started_at)


PLUGIN = Plugin(SilenceSpec, build, feeds="clock", event="sensor.offline", severity=Severity.MAJOR,
                places=frozenset({"sensor"}), gated=False)
