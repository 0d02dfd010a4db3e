"""Static two-level alarm thresholds with hysteresis (pure).

A point is at level 0 (normal), 1 (warning) or 2 (alarm). The level rises as soon as a
reading reaches a threshold and falls only once the reading is ``deadband`` back past it,
so a value hovering at a threshold does not flap. Callers emit an event on each change.
"""

from __future__ import annotations

from riskstream.config.schema import AlarmThresholds, Direction

NORMAL, WARNING, ALARM = 0, 1, 2
LEVEL_NAMES = {NORMAL: "normal", WARNING: "warning", ALARM: "alarm"}


def _beyond(th: AlarmThresholds, value: float, limit: float) -> bool:
    return value >= limit if th.direction == Direction.HIGH else value <= limit


def _back_past(th: AlarmThresholds, value: float, limit: float) -> bool:
    if th.direction == Direction.HIGH:
        return value < limit - th.deadband
    return value > limit + th.deadband


def next_level(th: AlarmThresholds, previous: int, value: float) -> int:
    """The alarm level after ``value`` when the point was at ``previous``."""
    if _beyond(th, value, th.alarm):
        return ALARM
    if previous == ALARM and not _back_past(th, value, th.alarm):
        return ALARM
    if _beyond(th, value, th.warning):
        return WARNING
    if previous >= WARNING and not _back_past(th, value, th.warning):
        return WARNING
    return NORMAL


def limit_for(th: AlarmThresholds, level: int) -> float | None:
    return {WARNING: th.warning, ALARM: th.alarm}.get(level)
