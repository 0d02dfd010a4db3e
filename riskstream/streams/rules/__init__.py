"""Correlation rules: pure logic, compiled from the YAML rule set (see riskstream.config.rules)."""

from __future__ import annotations

from riskstream.config.rules import (
    AbsenceRule,
    CoOccurrenceRule,
    CountRule,
    RuleConfig,
    SequenceRule,
    SpreadRule,
)
from riskstream.config.schema import Config
from riskstream.streams.rules.absence import Absence
from riskstream.streams.rules.base import Finding, Rule
from riskstream.streams.rules.cooccurrence import CoOccurrence
from riskstream.streams.rules.count import Count, Spread
from riskstream.streams.rules.sequence import Sequence

__all__ = ["Finding", "Rule", "compile_rule", "compile_rules"]


def compile_rule(rule: RuleConfig, devices_by_site: dict[str, list[str]]) -> Rule:
    if isinstance(rule, CoOccurrenceRule):
        return CoOccurrence(rule)
    if isinstance(rule, SequenceRule):
        return Sequence(rule)
    if isinstance(rule, CountRule):
        return Count(rule)
    if isinstance(rule, SpreadRule):
        return Spread(rule)
    if isinstance(rule, AbsenceRule):
        return Absence(rule, devices_by_site)
    raise TypeError(f"unknown rule type {type(rule).__name__}")


def compile_rules(cfg: Config) -> list[Rule]:
    devices: dict[str, list[str]] = {}
    for sensor in cfg.sensors:
        devices.setdefault(sensor.site, []).append(sensor.id)
    for camera in cfg.cameras:
        devices.setdefault(camera.site, []).append(camera.id)
    return [compile_rule(r, devices) for r in cfg.correlation.rules]
