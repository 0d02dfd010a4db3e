"""Thresholds in the config: a sensor's static two-level alarm (shared with the level detector)
and a detector's threshold filter (how its scores become detections)."""

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


class ThresholdConfig(Strict):
    threshold: float = Field(ge=0.0, le=1.0, description="Score at or above which an input is anomalous.")
    hysteresis: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="How far below the threshold a score must "
        "fall before the filter re-arms (no flapping around the threshold).",
    )
    min_consecutive: int = Field(1, ge=1, description="Inputs in a row at/above threshold before firing.")
    fire_at_once: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="A score at or above this fires at once, without waiting for min_consecutive: "
        "a certainty (a reading far beyond anything learned scores 1) should not wait, and a "
        "lone spike would otherwise never make a run. Default: none, every detection waits.")
    cooldown: int = Field(0, ge=0, description="Inputs after a detection during which no new one fires.")
    learn_below: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="An online detector learns only inputs scoring below this (default: the "
        "threshold). Below the threshold, it keeps the merely suspicious out of the memory of "
        "normal while only the clearest fire.",
    )

    @model_validator(mode="after")
    def _learning_limit_not_above_threshold(self) -> ThresholdConfig:
        if self.learn_below is not None and self.learn_below > self.threshold:
            raise ValueError(f"learn_below ({self.learn_below}) must not be above the threshold "
                             f"({self.threshold}): a detection's input would be learned as normal")
        return self
