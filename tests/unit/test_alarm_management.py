"""Alarm management after ISA-18.2 in the correlator (pure, in memory): claim, comment,
resolve with a reason, shelve with a capped expiry, out of service, suppressed by design,
roles re-checked, and the board's order (GB/T 50493, GB 18218)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from riskstream.alarms import priority, roles
from riskstream.config.loader import ConfigError, parse
from riskstream.events import ActionKind, Alert, AlertAction, AlertStatus, Severity
from riskstream.streams.correlate import SiteProcessor
from tests.unit.test_rules import RULES_CONFIG, T0, feed, gas, motion, ms

CONFIG = RULES_CONFIG.replace("  rules:\n", "  max_shelve_s: 3600\n  rules:\n")


def opened() -> tuple[SiteProcessor, Any, Alert]:
    p = SiteProcessor(parse(CONFIG))
    state, (alert,) = feed(p, None, [gas(0), motion(10)])
    return p, state, alert


def act(kind: ActionKind, alert: Alert | None = None, **kw: Any) -> AlertAction:
    kw.setdefault("by", "duty officer Li")
    return AlertAction(alert_id=alert.alert_id if alert else "", site_id="plant-east",
                       action=kind, at=T0 + timedelta(seconds=30), **kw)


def test_resolve_needs_a_reason_and_the_action_taken() -> None:
    p, state, alert = opened()
    for missing in ({"comment": "leak confirmed"}, {"action_taken": "valve closed"}, {}):
        _, res = p.on_action(state, act(ActionKind.RESOLVE, alert, **missing), ms(40))
        assert res.rejected and "reason" in res.rejected and not res.alerts
    _, res = p.on_action(state, act(ActionKind.RESOLVE, alert, comment="leak confirmed",
                                    action_taken="valve closed"), ms(40))
    (done,) = res.alerts
    assert done.status is AlertStatus.RESOLVED
    assert (done.lifecycle.last_action.comment, done.lifecycle.last_action.action_taken) == (
        "leak confirmed", "valve closed")


def test_claim_and_comment_keep_the_status_and_name_the_actor() -> None:
    p, state, alert = opened()
    state, res = p.on_action(state, act(ActionKind.CLAIM, alert), ms(40))
    assert res.alerts[0].lifecycle.claimed_by == "duty officer Li"
    assert res.alerts[0].status is AlertStatus.OPEN and res.alerts[0].revision == 2
    state, res = p.on_action(state, act(ActionKind.CLAIM, alert, assignee="Wang"), ms(41))
    assert res.alerts[0].lifecycle.claimed_by == "Wang"
    _, res = p.on_action(state, act(ActionKind.COMMENT, alert, comment=""), ms(42))
    assert res.rejected
    _, res = p.on_action(state, act(ActionKind.COMMENT, alert, comment="crew on the way"), ms(42))
    assert [h.action for h in res.alerts[0].lifecycle.history] == ["claim", "claim", "comment"]


def test_shelve_is_for_supervisors_capped_and_expires_by_itself() -> None:
    p, state, alert = opened()
    shelve = act(ActionKind.SHELVE, alert, comment="sensor recalibration", duration_s=7200)
    _, res = p.on_action(state, replace(shelve, role="city_operator"), ms(40))
    assert res.rejected and "may not shelve" in res.rejected
    _, res = p.on_action(state, replace(shelve, role="supervisor", comment=""), ms(40))
    assert res.rejected and "reason" in res.rejected
    state, res = p.on_action(state, replace(shelve, role="supervisor"), ms(40))
    (shelved,) = res.alerts
    assert shelved.status is AlertStatus.SHELVED and shelved.lifecycle.shelved_from == "open"
    until = shelved.lifecycle.shelved_until
    assert until is not None and int(until.timestamp() * 1000) == ms(40) + 3600_000  # capped
    state, res = p.on_tick(state, ms(40) + 3599_000)
    assert res.alerts == []  # still shelved, and a shelved alert does not escalate
    state, res = p.on_tick(state, ms(40) + 3600_000)
    (back,) = res.alerts
    assert back.status is AlertStatus.OPEN and back.lifecycle.shelved_until is None
    assert (back.lifecycle.last_action.by, back.lifecycle.last_action.comment) == (
        "riskstream", "shelve expired")


def test_a_shelved_alert_survives_a_restart_and_unshelves_on_request() -> None:
    p, state, alert = opened()
    state, _ = p.on_action(state, act(ActionKind.SHELVE, alert, role="supervisor",
                                      comment="maintenance", duration_s=600), ms(40))
    restored = json.loads(json.dumps(state))  # the Faust table keeps JSON
    fresh = SiteProcessor(parse(CONFIG))
    _, res = fresh.on_action(restored, act(ActionKind.ACKNOWLEDGE, alert), ms(50))
    assert res.rejected and "shelved" in res.rejected
    _, res = fresh.on_action(restored, act(ActionKind.UNSHELVE, alert, role="supervisor"), ms(50))
    assert res.alerts[0].status is AlertStatus.OPEN


def test_a_device_out_of_service_raises_nothing_until_it_returns() -> None:
    p = SiteProcessor(parse(CONFIG))
    oos = act(ActionKind.OUT_OF_SERVICE, target="gas-1", comment="sensor head replaced",
              role="supervisor")
    _, res = p.on_action(None, replace(oos, role="district_operator"), ms(0))
    assert res.rejected and "may not" in res.rejected
    _, res = p.on_action(None, replace(oos, target="gas-9"), ms(0))
    assert res.rejected and "not configured" in res.rejected
    state, res = p.on_action(None, oos, ms(0))
    (record,) = res.alerts
    assert (record.status, record.rule, record.attrs["target"]) == (
        AlertStatus.OUT_OF_SERVICE, "out-of-service", "gas-1")
    state, alerts = feed(p, state, [gas(1), motion(10)])
    assert alerts == []  # gas-1's event was recorded (the store reads rs.events) and raised nothing
    state, res = p.on_action(state, act(ActionKind.RETURN_TO_SERVICE, target="gas-1",
                                        role="supervisor"), ms(20))
    assert res.alerts[0].status is AlertStatus.RESOLVED and res.alerts[0].alert_id == record.alert_id
    _, alerts = feed(p, state, [gas(21)])
    assert len(alerts) == 1 and alerts[0].rule == "gas-motion"


def test_a_point_suppressed_by_design_raises_nothing() -> None:
    p = SiteProcessor(parse(CONFIG))
    state, res = p.on_action(None, act(ActionKind.SUPPRESS, target="tank-farm", role="supervisor",
                                       comment="unit 2 shut down for turnaround"), ms(0))
    assert res.alerts[0].status is AlertStatus.SUPPRESSED
    _, alerts = feed(p, state, [gas(1), motion(10)])
    assert alerts == []
    _, res = p.on_action(state, act(ActionKind.SUPPRESS, target="tank-farm", role="supervisor",
                                    comment="again"), ms(1))
    assert res.rejected and "already" in res.rejected


def test_returned_unacknowledged_comes_back_active_on_a_new_finding() -> None:
    from tests.unit.test_rules import Heartbeat  # type: ignore[attr-defined]

    config = CONFIG.split("correlation:")[0] + """correlation:
  rules:
    - {name: silent, type: absence, silent_s: 60, alarming: {min_severity: critical},
       alarming_window_s: 600}
"""
    p = SiteProcessor(parse(config))
    state, _ = p.on_heartbeat(None, Heartbeat("plant-east", "gas-2", T0), ms(0))
    state, _ = p.on_event(state, gas(10, sev="critical"), ms(10))
    state, res = p.on_tick(state, ms(75))
    (alert,) = res.alerts
    state, res = p.on_heartbeat(state, Heartbeat("plant-east", "gas-2", T0 + timedelta(seconds=80)),
                                ms(80))
    assert res.alerts[0].status is AlertStatus.RETURNED
    state, res = p.on_tick(state, ms(300))  # silent again while the site is still alarming
    assert res.alerts and res.alerts[0].status is AlertStatus.OPEN
    assert res.alerts[0].alert_id == alert.alert_id and res.alerts[0].lifecycle.cleared_at is None


def test_reserved_rule_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        parse(CONFIG.replace("name: gas-motion", "name: out-of-service"))


def test_roles_table() -> None:
    assert roles.may("supervisor", ActionKind.SHELVE)
    assert not roles.may("city_operator", ActionKind.OUT_OF_SERVICE)
    assert not roles.may("viewer", ActionKind.ACKNOWLEDGE)
    assert not roles.may("admin", ActionKind.ACKNOWLEDGE)
    assert roles.may("", ActionKind.ACKNOWLEDGE) and not roles.may("", ActionKind.SHELVE)
    assert not roles.may("root", ActionKind.ACKNOWLEDGE)


def board_alert(status: AlertStatus, sev: Severity, level: int, hazard: str, at: float,
                aid: str) -> Alert:
    return Alert(alert_id=aid, rule="r", site_id="s", severity=sev, first_ts=T0, last_ts=T0,
                 event_ids=(), explanation="x", status=status,
                 updated_at=T0 + timedelta(seconds=at),
                 attrs={"alarm_level": level, "hazard": hazard})


def test_board_order_follows_gb_t_50493_then_the_hazard_grade() -> None:
    o, a = AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED
    alerts = {
        "L1-toxic": board_alert(o, Severity.WARNING, 1, "toxic", 5, "L1-toxic"),
        "L2-comb": board_alert(o, Severity.CRITICAL, 2, "combustible", 1, "L2-comb"),
        "L2-toxic": board_alert(o, Severity.CRITICAL, 2, "toxic", 0, "L2-toxic"),
        "L1-comb": board_alert(o, Severity.WARNING, 1, "combustible", 9, "L1-comb"),
        "acked-L2-toxic": board_alert(a, Severity.CRITICAL, 2, "toxic", 9, "acked-L2-toxic"),
    }
    ranked = sorted(alerts.values(), key=priority.sort_key)
    assert [x.alert_id for x in ranked] == ["L2-toxic", "L2-comb", "L1-toxic", "L1-comb",
                                            "acked-L2-toxic"]
    same = alerts["L2-comb"]
    assert priority.sort_key(same, 1) < priority.sort_key(same, 3) < priority.sort_key(same, None)
    assert [priority.colour(replace(same, severity=s)) for s in Severity] == [
        "blue", "yellow", "orange", "red"]


def test_alarm_class_comes_from_the_raising_event() -> None:
    p = SiteProcessor(parse(CONFIG))
    _, (alert,) = feed(p, None, [gas(0), motion(10)])  # raised by the camera's event
    # the rule matches combustible gas and is critical: level 2, combustible
    assert (alert.attrs["alarm_level"], alert.attrs["hazard"]) == (2, "combustible")
    assert priority.hazard_of("h2s", "ppm") == "toxic"
    assert priority.hazard_of("combustible_gas", "%LEL") == "combustible"
    assert priority.hazard_of("co", "ppm") == "toxic" and priority.hazard_of("temperature") == "other"


def test_a_second_acknowledge_says_already_acknowledged() -> None:
    p, state, alert = opened()
    state, _ = p.on_action(state, act(ActionKind.ACKNOWLEDGE, alert), ms(40))
    _, res = p.on_action(state, act(ActionKind.ACKNOWLEDGE, alert), ms(41))
    assert res.rejected == f"alert {alert.alert_id} is already acknowledged"
