"""Correlation rules as configuration: a discriminated union on ``type``.

Each rule turns events at one site into findings; the alert lifecycle (update instead of
duplicate, cooldown, escalation) is common to all rules and configured here per rule.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from riskstream.config.base import Identifier, Strict
from riskstream.events import Severity

Scope = Literal["site", "point", "zone"]


class EventMatch(Strict):
    """Which events a rule step counts; every given field must match."""

    kind: str | None = Field(
        None, description="Event kind, exact ('sensor.threshold') or family prefix ('video.*')."
    )
    min_severity: Severity = Field(Severity.WARNING, description="Lowest severity that counts.")
    metric: str | None = Field(None, description="Sensor metric (attrs.metric), e.g. combustible_gas.")
    source_id: str | None = Field(None, description="Only this device.")
    point_id: str | None = Field(None, description="Only this risk point.")
    zone: str | None = Field(None, description="Only this camera zone.")
    min_score: float = Field(0.0, ge=0, le=1, description="Lowest detector score that counts.")
    label: str | None = Field(None, description="Name of this step in explanations.")


class LifecycleOptions(Strict):
    name: Identifier = Field(description="Rule name, unique; appears in every alert it raises.")
    description: str = Field("", description="What the rule means, for operators.")
    severity: Severity = Field(Severity.MAJOR, description="Severity of the alerts it raises.")
    site_kinds: list[str] = Field(
        default_factory=list, description="Only sites of these kinds (empty: every site)."
    )
    cooldown_s: float = Field(
        300.0, ge=0, description="After an alert is resolved, new findings of the same rule and "
        "scope are suppressed (counted) for this long."
    )
    escalate_after_s: float | None = Field(
        None, gt=0, description="Escalate (status escalated, severity +1) an alert still not "
        "acknowledged this long after it opened."
    )
    update_interval_s: float = Field(
        0.0, ge=0, description="Publish a live alert's updates (new contributing events) at most "
        "this often, in event time; changes in between are held and go out with the next update, "
        "operator action, escalation or timer tick. 0 publishes every change."
    )


class CoOccurrenceRule(LifecycleOptions):
    """All steps matched by events within ``window_s`` in one scope (any order)."""

    type: Literal["co_occurrence"]
    scope: Scope = Field("site", description="Where the events must co-occur.")
    window_s: float = Field(60.0, gt=0, description="Longest time between the first and last.")
    all_of: list[EventMatch] = Field(min_length=2, description="Each must be matched once.")
    distinct_sources: bool = Field(
        True, description="Each step must be matched by a different device."
    )


class SequenceRule(LifecycleOptions):
    """Steps matched in this order, all within ``within_s`` of the first."""

    type: Literal["sequence"]
    scope: Scope = Field("site", description="Where the sequence must happen.")
    within_s: float = Field(gt=0, description="Longest time from the first step to the last.")
    steps: list[EventMatch] = Field(min_length=2, description="Steps in order.")


class CountRule(LifecycleOptions):
    """At least ``threshold`` matching events within ``window_s`` in one scope."""

    type: Literal["count"]
    scope: Scope = Field("point", description="What is counted together.")
    window_s: float = Field(600.0, gt=0, description="Sliding window length.")
    threshold: int = Field(ge=2, description="Number of events that raises an alert.")
    match: EventMatch = Field(description="Events that count.")


class SpreadRule(LifecycleOptions):
    """Matching events from at least ``min_points`` distinct points (or devices) in one scope."""

    type: Literal["spread"]
    scope: Literal["site", "zone"] = Field("site", description="Area the spread is measured in.")
    window_s: float = Field(300.0, gt=0, description="Sliding window length.")
    min_points: int = Field(2, ge=2, description="Distinct points (or devices) that raise it.")
    distinct: Literal["point_id", "source_id"] = Field(
        "point_id", description="What counts as a separate place."
    )
    match: EventMatch = Field(description="Events that count.")


class AbsenceRule(LifecycleOptions):
    """A device of the site silent for ``silent_s`` while the site is alarming."""

    type: Literal["absence"]
    silent_s: float = Field(gt=0, description="Silence (no event or heartbeat) that counts.")
    alarming: EventMatch = Field(
        default_factory=lambda: EventMatch(min_severity=Severity.WARNING),
        description="Events that put the site in an alarming state.",
    )
    alarming_window_s: float = Field(600.0, gt=0, description="How long an alarming event lasts.")
    devices: list[str] = Field(
        default_factory=list, description="Devices to watch (empty: all sensors and cameras "
        "configured for the site)."
    )


RuleConfig = Annotated[
    CoOccurrenceRule | SequenceRule | CountRule | SpreadRule | AbsenceRule,
    Field(discriminator="type"),
]


# the condition records of devices out of service and points suppressed by design
RESERVED_RULE_NAMES = ("out-of-service", "suppressed-by-design")


class RuleSet(Strict):
    rules: list[RuleConfig] = Field(default_factory=list, description="Correlation rules.")
    dedup_window_s: float = Field(
        900.0, gt=0, description="How long an event_id is remembered to drop re-deliveries."
    )
    max_shelve_s: float = Field(
        8 * 3600.0, gt=0, description="Longest an operator may shelve an alert; a longer "
        "request is capped to this (ISA-18.2: shelving is timed)."
    )

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate rule names: {', '.join(dupes)}")
        reserved = sorted(set(names) & set(RESERVED_RULE_NAMES))
        if reserved:
            raise ValueError(f"rule names reserved for alarm conditions: {', '.join(reserved)}")
        return self
