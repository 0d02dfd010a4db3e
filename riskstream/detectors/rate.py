"""``rate``: a value changing faster than the process can (``sensor.rate``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class RateSpec(SpecBase):
    type: Literal["rate"] = "rate"
    max_per_s: float = Field(gt=0, description="Largest normal change per second (unit/s).")


def build(spec: RateSpec, ctx: Context) -> Any:
    from riskstream.models.sensor_rules import RateOfChange

    return RateOfChange(spec.max_per_s)


PLUGIN = Plugin(RateSpec, build, feeds="sample", event="sensor.rate", severity=Severity.WARNING,
                places=frozenset({"sensor"}), gated=False)
