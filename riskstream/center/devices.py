"""Device health and the site overview (pure: the config, the devices' last heartbeats, the
board's alerts and the time are passed in).

A device fault (a sensor silent or stuck, a camera offline or tampered, an edge whose outbox
cannot be written) is shown apart from a process alarm (gas, temperature, intrusion): a fault
says the picture may be wrong, an alarm says the plant is. Fault alerts are those of absence
rules and of rules that match only device-fault event kinds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from riskstream.alarms.priority import COLOUR, sort_key
from riskstream.config.rules import AbsenceRule, RuleConfig
from riskstream.config.schema import Config
from riskstream.events import Alert, AlertStatus, Heartbeat, format_time

FAULT_KINDS = {"sensor.offline": "sensor", "sensor.stuck": "sensor", "video.tamper": "camera"}
CONDITION_RULES = ("out-of-service", "suppressed-by-design")
SILENT_AFTER_BEATS = 3  # a device is silent after this many missed heartbeats


class HeartbeatBook:
    """The newest heartbeat of each (site, device); filled by the feed thread."""

    def __init__(self) -> None:
        self._beats: dict[tuple[str, str], Heartbeat] = {}
        self._lock = threading.Lock()

    def seen(self, beat: Heartbeat) -> None:
        key = (beat.site_id, beat.source_id)
        with self._lock:
            old = self._beats.get(key)
            if old is None or beat.ts >= old.ts:
                self._beats[key] = beat

    def all(self) -> dict[tuple[str, str], Heartbeat]:
        with self._lock:
            return dict(self._beats)


def fault_rules(rules: list[RuleConfig]) -> dict[str, str]:
    """Rule name -> which devices its alerts are about (sensor, camera or any)."""
    out: dict[str, str] = {}
    for rule in rules:
        if isinstance(rule, AbsenceRule):
            out[rule.name] = "sensor"
            continue
        kinds = {m.kind for m in _matches(rule)}
        families = {FAULT_KINDS.get(k or "") for k in kinds}
        known = {f for f in families if f is not None}
        if kinds and len(known) == len(families):
            out[rule.name] = known.pop() if len(known) == 1 else "any"
    return out


def _matches(rule: RuleConfig) -> list[Any]:
    found = []
    for name in ("match", "all_of", "steps"):
        value = getattr(rule, name, None)
        found += value if isinstance(value, list) else [value] if value is not None else []
    return found


@dataclass(frozen=True)
class Device:
    device_id: str
    kind: str  # sensor, camera, edge
    site_id: str
    point_id: str
    detail: str  # metric and unit, or the camera's name


def devices_of(cfg: Config, beats: dict[tuple[str, str], Heartbeat]) -> list[Device]:
    out = [Device(s.id, "sensor", s.site, s.point, f"{s.metric} ({s.unit})")
           for s in cfg.sensors]
    out += [Device(c.id, "camera", c.site, c.point or "", "camera") for c in cfg.cameras]
    out += [Device(src, "edge", site, "", "edge agent") for site, src in sorted(beats)
            if src.startswith("edge:")]
    return out


def device_health(cfg: Config, beats: dict[tuple[str, str], Heartbeat], alerts: list[Alert],
                  now: datetime) -> list[dict[str, Any]]:
    """One row per device: its last heartbeat, status and the fault alerts about it.

    Status, worst first: out_of_service (a supervisor took it out), fault (an open fault
    alert: silent, stuck, tampered), offline (a camera not delivering frames; an edge that
    cannot write its outbox), silent (no heartbeat for 3 beats), never (none seen since the
    console started reading), ok."""
    faults = fault_rules(cfg.correlation.rules)
    silent_after = SILENT_AFTER_BEATS * cfg.edge.heartbeat_s
    districts = {s.id: s.district for s in cfg.sites}
    live = [a for a in alerts if a.status != AlertStatus.RESOLVED]
    rows = []
    for d in devices_of(cfg, beats):
        beat = beats.get((d.site_id, d.device_id))
        about = [a for a in live if a.site_id == d.site_id and a.rule in faults
                 and _about(a, faults[a.rule], d)]
        out_of_service = any(a.rule == "out-of-service" and a.attrs.get("target") == d.device_id
                             for a in live if a.site_id == d.site_id)
        age = (now - beat.ts).total_seconds() if beat else None
        attrs = beat.attrs if beat else {}
        status = ("out_of_service" if out_of_service else "fault" if about
                  else "offline" if _offline(d, attrs) else "never" if beat is None
                  else "silent" if age is not None and age > silent_after else "ok")
        rows.append({
            "device_id": d.device_id, "kind": d.kind, "site_id": d.site_id,
            "district": districts.get(d.site_id, ""), "point_id": d.point_id, "detail": d.detail,
            "status": status, "last_heartbeat": format_time(beat.ts) if beat else None,
            "age_s": round(age, 1) if age is not None else None,
            "figures": _figures(attrs), "fault_alerts": [
                {"alert_id": a.alert_id, "rule": a.rule, "status": a.status.value,
                 "explanation": a.explanation} for a in about]})
    return rows


def _about(alert: Alert, family: str, d: Device) -> bool:
    device = alert.attrs.get("device")
    if device:
        return bool(device == d.device_id)
    kind_ok = family in ("any", d.kind)
    return kind_ok and (alert.attrs.get("key") in (d.point_id, d.device_id, "site"))


def _offline(d: Device, attrs: dict[str, Any]) -> bool:
    if d.kind == "camera":
        return bool(attrs) and attrs.get("state") not in ("streaming", None)
    if d.kind == "edge":
        return attrs.get("outbox_writable") is False
    return False


_FIGURES = ("readings", "outbox_depth", "late_readings", "state", "fps_in", "fps_analysed",
            "frames_dropped", "reconnects", "last_error", "outbox_writable", "outbox_error")


def _figures(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: attrs[k] for k in _FIGURES if k in attrs and attrs[k] not in ("", None)}


def site_overview(cfg: Config, health: list[dict[str, Any]], alerts: list[Alert],
                  grades: dict[str, int | None]) -> list[dict[str, Any]]:
    """Plant -> risk point -> sensors and cameras, each coloured by state: a point by its
    worst live process alarm (red/orange/yellow/blue; a zone's alarm counts for the point its
    camera watches), a device by its health."""
    faults = fault_rules(cfg.correlation.rules)
    live = sorted((a for a in alerts if a.status != AlertStatus.RESOLVED
                   and a.rule not in faults and a.rule not in CONDITION_RULES),
                  key=lambda a: sort_key(a, grades.get(a.site_id)))
    zones = {(c.site, z.name): c.point for c in cfg.cameras if c.point for z in c.zones}
    by_site: dict[str, list[dict[str, Any]]] = {}
    for row in health:
        by_site.setdefault(row["site_id"], []).append(row)
    out = []
    for site in cfg.sites:
        mine = [a for a in live if a.site_id == site.id]
        points = []
        for point in [*site.risk_points, None]:
            pid = point.id if point else ""
            here = [a for a in mine if pid and pid in (
                a.attrs.get("key"), zones.get((site.id, str(a.attrs.get("key")))))]
            devices = [{"device_id": r["device_id"], "kind": r["kind"], "status": r["status"]}
                       for r in by_site.get(site.id, []) if r["point_id"] == pid]
            if point is None and not devices:
                continue
            points.append({"point_id": pid, "name": point.name if point else "",
                           "state": _state(here), "alerts": [a.alert_id for a in here],
                           "devices": devices})
        out.append({"site_id": site.id, "name": site.name, "district": site.district,
                    "kind": site.kind, "grade": grades.get(site.id), "state": _state(mine),
                    "alerts": len(mine), "points": points,
                    "faults": sum(1 for r in by_site.get(site.id, []) if r["status"] != "ok")})
    return out


def _state(alerts: list[Alert]) -> str:
    """The colour of the first (most important) alert, or normal."""
    return COLOUR[alerts[0].severity] if alerts else "normal"


