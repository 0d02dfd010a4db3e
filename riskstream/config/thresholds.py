"""Static two-level alarm levels, shared by sensor config and the level detector."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from riskstream.config.base import Strict


class Direction(StrEnum):
    HIGH = "high"
    LOW = "low"


class AlarmThresholds(Strict):
    """Two-level static alarm: e.g. combustible gas 25 %LEL warning, 50 %LEL alarm."""

    direction: Direction = Field(
        Direction.HIGH, description="'high' alarms above the levels, 'low' below them."
    )
    warning: float = Field(description="First alarm level (severity warning).")
    alarm: float = Field(description="Second alarm level (severity critical).")
    deadband: float = Field(
        0.0, ge=0, description="Hysteresis: a level clears only this far back past its threshold."
    )

    @model_validator(mode="after")
    def _ordered(self) -> AlarmThresholds:
        ordered = self.warning < self.alarm if self.direction == Direction.HIGH else (
            self.warning > self.alarm
        )
        if not ordered:
            word = "below" if self.direction == Direction.HIGH else "above"
            raise ValueError(f"warning level must be {word} the alarm level for direction "
                             f"'{self.direction.value}'")
        return self
