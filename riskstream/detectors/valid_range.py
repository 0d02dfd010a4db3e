"""``range``: a physically implausible value (0.5 at the edge of the range).

In a deployment a sensor's ``valid_range`` rejects such readings before any detector (they go
to the dead-letter topic); this plugin serves the library and the evaluations, so it has no
place in the YAML."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class RangeSpec(SpecBase):
    type: Literal["range"] = "range"
    min: float = Field(description="Lowest physically possible value.")
    max: float = Field(description="Highest physically possible value.")


def build(spec: RangeSpec, ctx: Context) -> Any:
    from riskstream.models.sensor_rules import Implausible

    return Implausible(spec.min, spec.max)


PLUGIN = Plugin(RangeSpec, build, feeds="sample", event="sensor.threshold", severity=Severity.WARNING,
                places=frozenset(), gated=False)
