"""Correlation rules and the alert lifecycle, without Faust: events in, findings/alerts out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from riskstream.config.rules import RuleConfig
from riskstream.events import ActionKind, AlertAction, AlertStatus, Event, Severity
from riskstream.streams.rules import compile_rule
from riskstream.streams.rules.base import Finding
from riskstream.testing import make_event

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
GAS = {"kind": "sensor.threshold", "metric": "combustible_gas", "min_severity": "warning"}
MOTION = {"kind": "video.*", "min_severity": "info", "zone": "tank-farm"}


def rule_of(data: dict[str, Any], devices: dict[str, list[str]] | None = None) -> Any:
    cfg = TypeAdapter(RuleConfig).validate_python(data)
    return compile_rule(cfg, devices or {})


def gas(at: float, source: str = "gas-1", point: str = "tank-farm", sev: str = "warning", **kw: Any) -> Event:
    return make_event(
        ts=T0 + timedelta(seconds=at),
        source_id=source,
        point_id=point,
        severity=Severity(sev),
        attrs={"metric": "combustible_gas"},
        **kw,
    )


def motion(at: float, zone: str = "tank-farm") -> Event:
    return make_event(
        kind="video.motion",
        ts=T0 + timedelta(seconds=at),
        source_id="cam-1",
        point_id="tank-farm",
        zone=zone,
        severity=Severity.INFO,
        score=0.7,
        value=None,
        unit=None,
        attrs={},
    )


def run(rule: Any, events: list[Event]) -> tuple[dict[str, Any], list[Finding]]:
    states: dict[str, Any] = {}
    found: list[Finding] = []
    for e in events:
        key = rule.key(e)
        if key is None:
            continue
        new, f = rule.on_event(states.get(key), e)
        states[key] = new
        found += f
    return states, found


def test_co_occurrence_fires_only_within_the_window() -> None:
    rule = rule_of(
        {
            "name": "gas-motion",
            "type": "co_occurrence",
            "window_s": 60,
            "all_of": [GAS, MOTION],
            "severity": "critical",
        }
    )
    _, found = run(rule, [gas(0), motion(59)])
    assert len(found) == 1
    f = found[0]
    assert f.rule == "gas-motion" and f.key == "site"
    assert f.event_ids[1].startswith("") and len(f.event_ids) == 2
    assert "within 60 s" in f.explanation and "gas-1" in f.explanation and "cam-1" in f.explanation
    _, late = run(rule, [gas(0), motion(61)])
    assert late == []
    _, order = run(rule, [motion(0), gas(30)])  # any order
    assert len(order) == 1


def test_co_occurrence_needs_distinct_devices_and_ignores_cleared_levels() -> None:
    rule = rule_of({"name": "two-gas", "type": "co_occurrence", "window_s": 60, "all_of": [GAS, GAS]})
    assert run(rule, [gas(0), gas(10)])[1] == []  # the same detector twice is not two signals
    assert len(run(rule, [gas(0), gas(10, source="gas-2")])[1]) == 1
    assert run(rule, [gas(0, sev="info"), gas(10, source="gas-2")])[1] == []


def test_sequence_requires_order_and_deadline() -> None:
    rule = rule_of(
        {
            "name": "rise-then-alarm",
            "type": "sequence",
            "within_s": 120,
            "steps": [{**GAS, "min_severity": "warning"}, {**GAS, "min_severity": "critical"}],
        }
    )
    assert len(run(rule, [gas(0), gas(100, sev="critical")])[1]) == 1
    assert run(rule, [gas(0), gas(121, sev="critical")])[1] == []
    # critical first does not complete: warning matches step 1 only after it
    _, found = run(rule, [gas(0, sev="critical")])
    assert found == []


def test_count_per_point_within_window() -> None:
    rule = rule_of(
        {"name": "repeat", "type": "count", "threshold": 3, "window_s": 600, "scope": "point", "match": GAS}
    )
    _, found = run(rule, [gas(0), gas(200), gas(599)])
    assert len(found) == 1 and found[0].key == "tank-farm"
    assert found[0].attrs["count"] == 3 and "3 x" in found[0].explanation
    assert run(rule, [gas(0), gas(200), gas(601)])[1] == []
    assert run(rule, [gas(0), gas(1, point="reactor"), gas(2)])[1] == []


def test_spread_counts_distinct_points() -> None:
    rule = rule_of({"name": "spread", "type": "spread", "min_points": 2, "window_s": 300, "match": GAS})
    assert run(rule, [gas(0), gas(10, source="gas-2")])[1] == []  # same point twice
    _, found = run(rule, [gas(0), gas(10, source="gas-3", point="pump-house")])
    assert len(found) == 1 and found[0].attrs["places"] == ["pump-house", "tank-farm"]


def heartbeat(source_id: str) -> Event:
    return make_event(kind="device.heartbeat", source_id=source_id, severity=Severity.INFO,
                      score=0.0, ts=T0, value=None, unit=None, attrs={})


def test_absence_only_while_site_is_alarming() -> None:
    rule = rule_of(
        {"name": "silent", "type": "absence", "silent_s": 60, "alarming": GAS, "alarming_window_s": 600},
        {"plant-east": ["gas-1", "gas-2", "temp-1"]},
    )
    state, _ = rule.on_event(None, heartbeat("gas-2"))
    state, _ = rule.on_event(state, heartbeat("temp-1"))
    ms = int(T0.timestamp() * 1000)
    state, found = rule.on_tick(state, ms + 120_000)
    assert found == []  # silent devices, but nothing alarming
    state, _ = rule.on_event(state, gas(100))
    state, found = rule.on_tick(state, ms + 130_000)
    assert sorted(f.key for f in found) == ["device gas-2", "device temp-1"]
    assert "while plant-east is alarming" in found[0].explanation
    state, found = rule.on_tick(state, ms + 100_000 + 601_000)  # alarm expired
    assert found == []


def test_rule_state_is_bounded_and_expires_on_tick() -> None:
    rule = rule_of(
        {"name": "repeat", "type": "count", "threshold": 1000, "window_s": 60, "scope": "site", "match": GAS}
    )
    states, found = run(rule, [gas(i * 0.05) for i in range(999)])
    assert found == [] and len(states["site"]["ids"]) <= 100
    states, found = run(rule, [gas(i * 0.05) for i in range(1200)])
    # exact beyond any sighting cap: the 1000th match within 60 s fires
    assert found and found[0].attrs["count"] == 1000 and len(found[0].event_ids) == 100
    assert len(states["site"]["times"]) <= 1000
    later = int((T0 + timedelta(seconds=500)).timestamp() * 1000)
    assert rule.on_tick(states["site"], later) == (None, [])


# -- lifecycle ------------------------------------------------------------------------------

from riskstream.config import parse  # noqa: E402
from riskstream.streams.correlate import Heartbeat, SiteProcessor  # noqa: E402

RULES_CONFIG = """\
sites:
  - id: plant-east
    name: Plant
    district: binhai
    kind: chemical_plant
    risk_points: [{id: tank-farm, name: Tank farm}]
  - id: school-1
    name: School
    district: xicheng
    kind: school
sensors:
  - {id: gas-1, site: plant-east, point: tank-farm, metric: combustible_gas, unit: "%LEL",
     topic: a/gas-1}
  - {id: gas-2, site: plant-east, point: tank-farm, metric: combustible_gas, unit: "%LEL",
     topic: a/gas-2}
correlation:
  rules:
    - name: gas-motion
      type: co_occurrence
      severity: critical
      window_s: 60
      cooldown_s: 600
      escalate_after_s: 120
      site_kinds: [chemical_plant]
      all_of:
        - {kind: sensor.threshold, metric: combustible_gas}
        - {kind: "video.*", min_severity: info}
"""


def processor() -> SiteProcessor:
    return SiteProcessor(parse(RULES_CONFIG))


def ms(at: float) -> int:
    return int((T0 + timedelta(seconds=at)).timestamp() * 1000)


def feed(p: SiteProcessor, state: Any, events: list[Event]) -> tuple[Any, list[Any]]:
    out = []
    for e in events:
        state, res = p.on_event(state, e, ms(0) + 1000)
        out += res.alerts
    return state, out


def test_processor_opens_then_updates_one_alert() -> None:
    p = processor()
    _, alerts = feed(p, None, [gas(0), motion(10), motion(20)])
    assert [(a.revision, a.status) for a in alerts] == [(1, AlertStatus.OPEN), (2, AlertStatus.OPEN)]
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[0].severity is Severity.CRITICAL and alerts[0].district == "binhai"
    assert len(alerts[1].event_ids) == 3
    assert alerts[0].explanation.startswith("gas-motion: ")


def test_redelivered_events_are_dropped_and_alert_ids_are_stable() -> None:
    events = [gas(0), motion(10)]
    p = processor()
    state, first = feed(p, None, events)
    state, again = feed(p, state, events)
    assert again == []
    _, replay = feed(processor(), None, events)  # a fresh worker replaying the same events
    assert replay[0].alert_id == first[0].alert_id


def test_site_kind_filter_and_enrichment() -> None:
    p = processor()
    school_gas = gas(0).__class__(
        **{
            **gas(0).to_dict(),
            "site_id": "school-1",
            "ts": T0,
            "detected_at": T0,
            "severity": Severity.WARNING,
        }
    )
    _, alerts = feed(
        p,
        None,
        [
            school_gas,
            motion(5).__class__(
                **{
                    **motion(5).to_dict(),
                    "site_id": "school-1",
                    "ts": T0,
                    "detected_at": T0,
                    "severity": Severity.INFO,
                }
            ),
        ],
    )
    assert alerts == []
    # Enrichment happens where events are stored: the registry's facts go into the row.
    from dataclasses import replace

    from riskstream.storage.rows import EVENTS

    mapping = replace(EVENTS, context=p.registry.context)
    (row,) = mapping.rows([gas(0, district="")])
    stored = dict(zip(EVENTS.columns, row, strict=True))
    assert stored["district"] == "binhai"
    attrs = json.loads(stored["attrs"])
    assert attrs["site_kind"] == "chemical_plant" and attrs["point_name"] == "Tank farm"
    assert EVENTS.rows([gas(0, district="")])[0][4] == ""  # without the registry: as sent
    # An unknown site gets nothing added, and is not cached (random site ids cannot grow it).
    assert p.registry.context("no-such-site", "x") == ("", {})
    assert ("no-such-site", "x") not in p.registry._context


def test_actions_lifecycle_and_cooldown() -> None:
    p = processor()
    state, (alert,) = feed(p, None, [gas(0), motion(10)])
    ack = AlertAction(
        alert_id=alert.alert_id,
        site_id="plant-east",
        action=ActionKind.ACKNOWLEDGE,
        by="duty officer Li",
        at=T0 + timedelta(seconds=30),
    )
    state, res = p.on_action(state, ack, ms(30))
    assert res.alerts[0].status is AlertStatus.ACKNOWLEDGED and res.alerts[0].revision == 2
    assert res.alerts[0].lifecycle.history[0].by == "duty officer Li"
    state, res = p.on_action(state, ack, ms(31))
    assert res.duplicate and not res.rejected and not res.alerts  # delivered twice: applied once
    resolve = AlertAction(
        alert_id=alert.alert_id,
        site_id="plant-east",
        action=ActionKind.RESOLVE,
        by="duty officer Li",
        comment="leak at flange 3 confirmed on site",
        action_taken="valve closed, flange resealed",
    )
    state, res = p.on_action(state, resolve, ms(60))
    assert res.alerts[0].status is AlertStatus.RESOLVED
    # Within the 600 s cooldown a new co-occurrence is suppressed and counted.
    state, alerts = feed(p, state, [gas(100, source="gas-2"), motion(110)])
    assert alerts == []
    assert sum(state["book"]["suppressed"].values()) >= 1
    state, res = p.on_action(state, resolve, ms(70))
    assert res.duplicate and not res.alerts  # the same action again: applied once
    again = AlertAction(alert_id=alert.alert_id, site_id="plant-east", action=ActionKind.RESOLVE,
                        by="duty officer Wang")
    state, res = p.on_action(state, again, ms(71))
    assert res.rejected and "not open" in res.rejected


def test_unacknowledged_alert_escalates_once() -> None:
    p = processor()
    state, (alert,) = feed(p, None, [gas(0), motion(10)])
    assert alert.lifecycle.opened_at is not None
    opened = int(alert.lifecycle.opened_at.timestamp() * 1000)
    state, res = p.on_tick(state, opened + 119_000)
    assert res.alerts == []
    state, res = p.on_tick(state, opened + 121_000)
    (esc,) = res.alerts
    assert esc.status is AlertStatus.ESCALATED and esc.severity is Severity.CRITICAL
    assert "Escalated: not acknowledged within 120 s" in esc.explanation
    state, res = p.on_tick(state, opened + 200_000)
    assert res.alerts == []


def test_tick_discards_empty_state_and_heartbeats_raise_nothing() -> None:
    p = processor()
    state, res = p.on_heartbeat(None, Heartbeat("plant-east", "gas-1", T0), ms(0))
    assert res.alerts == []
    state, res = p.on_event(state, gas(0), ms(0))
    assert res.alerts == []
    state, res = p.on_tick(state, ms(0) + 3_600_000)
    assert state is None and res.alerts == []


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "count", "name": "x", "match": {}},
        {"type": "nope", "name": "x"},
        {"type": "co_occurrence", "name": "x", "all_of": [GAS]},
    ],
)
def test_rule_config_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TypeAdapter(RuleConfig).validate_python(bad)


def test_ticks_use_the_site_event_clock_so_replays_survive() -> None:
    """Events from an hour ago keep their window: the site clock runs from the newest event."""
    p = processor()
    old = -3600.0
    state, _ = p.on_event(None, gas(old), ms(0))
    wall = ms(0) + 5_000  # five seconds of wall time later
    assert p.site_time(state, wall) == ms(old) + 5_000
    state, res = p.on_tick(state, wall)
    assert state is not None and state["rules"]["gas-motion"]  # window still open
    state, res = p.on_event(state, motion(old + 30), wall)
    assert [a.rule for a in res.alerts] == ["gas-motion"]
    state, _ = p.on_tick(state, wall + 61_000)  # a minute of silence: the window closes
    assert state is not None and "gas-motion" not in state["rules"]


def test_video_incident_counts_once_and_its_end_is_no_sighting() -> None:
    from riskstream.config.rules import CountRule
    from riskstream.streams.rules.count import Count
    from riskstream.testing import make_event

    rule = Count(
        CountRule.model_validate(
            {
                "name": "repeated-intrusion",
                "type": "count",
                "match": {"kind": "video.intrusion"},
                "window_s": 600,
                "threshold": 2,
                "scope": "zone",
                "severity": "major",
            }
        )
    )
    state = None
    findings = []
    for phase in ("start", "update", "update", "end"):
        ev = make_event(kind="video.intrusion", zone="gate", attrs={"incident_id": "i1", "phase": phase})
        if rule.key(ev) is None:
            continue
        state, found = rule.on_event(state, ev)
        findings += found
    assert findings == []  # one incident, however many updates
    second = make_event(kind="video.intrusion", zone="gate", attrs={"incident_id": "i2", "phase": "start"})
    state, found = rule.on_event(state, second)
    assert len(found) == 1 and found[0].attrs["count"] == 2


def test_alert_updates_are_coalesced_when_an_interval_is_set() -> None:
    config = RULES_CONFIG.replace("      escalate_after_s: 120\n", "      update_interval_s: 30\n")
    p = SiteProcessor(parse(config))
    state, alerts = feed(p, None, [gas(0), motion(10), motion(20), motion(25)])
    assert [a.revision for a in alerts] == [1]  # two updates within 30 s of event time: held
    state, later = feed(p, state, [motion(45)])  # 35 s after the published revision
    assert [(a.revision, len(a.event_ids)) for a in later] == [(2, 5)]  # everything held goes out
    state, alerts = feed(p, state, [motion(50)])
    assert alerts == []
    state, res = p.on_tick(state, ms(100))  # the site's clock passes the interval: flushed
    assert [(a.revision, len(a.event_ids)) for a in res.alerts] == [(3, 6)]
    _, res = p.on_tick(state, ms(200))
    assert res.alerts == []  # nothing held any more


def test_count_and_spread_states_of_the_old_layout_expire_instead_of_crashing() -> None:
    count = rule_of({"name": "c", "type": "count", "threshold": 3, "window_s": 60, "match": GAS})
    spread = rule_of({"name": "s", "type": "spread", "min_points": 2, "window_s": 60, "match": GAS})
    old = {"hits": [[0, "id", "gas-1", "tank-farm", "text"]]}  # the layout before "times"
    assert count.on_tick(old, 10**12) == (None, [])
    assert spread.on_tick(old, 10**12) == (None, [])


def test_co_occurrence_window_holds_for_late_events_too() -> None:
    """A late event lands in the past: both steps seen, but 100 s apart, is no co-occurrence."""
    rule = rule_of({"name": "gas-motion", "type": "co_occurrence", "window_s": 60,
                    "all_of": [GAS, MOTION]})
    assert run(rule, [motion(100), gas(0)])[1] == []
    assert len(run(rule, [motion(100), gas(50)])[1]) == 1


def test_escalation_raises_the_severity_one_step() -> None:
    p = SiteProcessor(parse(RULES_CONFIG.replace("      severity: critical\n",
                                                 "      severity: major\n")))
    state, (alert,) = feed(p, None, [gas(0), motion(10)])
    assert alert.severity is Severity.MAJOR
    assert alert.lifecycle.opened_at is not None
    _, res = p.on_tick(state, int(alert.lifecycle.opened_at.timestamp() * 1000) + 121_000)
    (esc,) = res.alerts
    assert (esc.status, esc.severity) == (AlertStatus.ESCALATED, Severity.CRITICAL)


def test_absence_ignores_devices_never_heard_and_clears_when_one_reports_again() -> None:
    """4 alerts once opened for sensors that had never reported, and stayed open after."""
    config = RULES_CONFIG.split("correlation:")[0] + """correlation:
  rules:
    - {name: silent, type: absence, silent_s: 60, alarming: {min_severity: critical},
       alarming_window_s: 600, site_kinds: [chemical_plant]}
"""
    p = SiteProcessor(parse(config))
    state, res = p.on_heartbeat(None, Heartbeat("plant-east", "gas-2", T0), ms(0))
    assert res.alerts == []
    state, res = p.on_event(state, gas(10, sev="critical"), ms(10))  # gas-1 alarms
    state, res = p.on_tick(state, ms(75))
    (alert,) = res.alerts  # gas-2 went silent; cam-1 and others never reported: not flagged
    assert alert.attrs["device"] == "gas-2" and alert.status is AlertStatus.OPEN
    state, res = p.on_heartbeat(state, Heartbeat("plant-east", "gas-2", T0 + timedelta(seconds=80)),
                                ms(80))
    (cleared,) = res.alerts  # nobody acknowledged it: returned to normal, unacknowledged
    assert cleared.alert_id == alert.alert_id and cleared.status is AlertStatus.RETURNED
    assert "reported again" in cleared.explanation and cleared.revision == alert.revision + 1
    state, res = p.on_tick(state, ms(90))
    assert res.alerts == []  # not raised again while it reports
    ack = AlertAction(alert_id=alert.alert_id, site_id="plant-east",
                      action=ActionKind.ACKNOWLEDGE, by="duty officer Li")
    state, res = p.on_action(state, ack, ms(95))
    assert res.alerts[0].status is AlertStatus.RESOLVED and state["book"]["live"] == {}
