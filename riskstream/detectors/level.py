"""``level``: the two-level static alarm as a detector (0 normal, 0.5 warning, 1 alarm).

In a deployment a sensor's ``thresholds`` raise ``sensor.threshold`` events with the same
arithmetic (:mod:`riskstream.sensors.thresholds`); this plugin serves the library and the
evaluations, so it has no place in the YAML."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.config.thresholds import AlarmThresholds
from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class LevelSpec(SpecBase):
    type: Literal["level"] = "level"
    thresholds: AlarmThresholds = Field(description="Warning and alarm levels with deadband.")


def build(spec: LevelSpec, ctx: Context) -> Any:
    from riskstream.models.sensor_rules import LevelAlarm

    return LevelAlarm(spec.thresholds)


PLUGIN = Plugin(LevelSpec, build, feeds="sample", event="sensor.threshold", severity=Severity.WARNING,
                places=frozenset(), gated=False)
