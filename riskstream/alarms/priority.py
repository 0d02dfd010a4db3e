"""The order alarms are shown in, and the warning colour of each (pure).

Chinese rules for hazardous-chemical alarms (GB/T 50493-2019): a level-2 alarm ranks above a
level-1 one, and at the same level a toxic-gas alarm above a combustible-gas one. The national
early-warning system colours alarms red / orange / yellow / blue. A site's GB 18218
major-hazard grade (1 is the highest) breaks the remaining ties.

The board's order, first key first:
1. where the alarm stands: active unacknowledged, returned unacknowledged, acknowledged,
   shelved, out of service / suppressed, resolved (an operator's work comes first);
2. alarm level (2 above 1); 3. hazard (toxic, combustible, other); 4. severity;
5. the site's major-hazard grade (1 first, none last); 6. newest change first.

The level and hazard of an alert (``attrs.alarm_level``, ``attrs.hazard``, added by the
correlator) are the stronger of its rule's (:func:`rule_class`: severity, and the metrics it
matches) and the raising event's (:func:`alarm_class`: its level and metric).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from riskstream.events import Alert, AlertStatus, Event, Severity

COLOUR = {Severity.CRITICAL: "red", Severity.MAJOR: "orange", Severity.WARNING: "yellow",
          Severity.INFO: "blue"}
HAZARDS = ("toxic", "combustible", "other")  # in ranking order
_TOXIC = {"toxic", "h2s", "hydrogen", "sulfide", "sulphide", "co", "carbon", "monoxide", "nh3",
          "ammonia", "cl2", "chlorine", "hcn", "cyanide", "phosgene", "so2", "no2", "benzene"}
_COMBUSTIBLE = {"combustible", "flammable", "lel", "methane", "ch4", "propane", "lpg", "lng"}
_LEVELS = {"alarm": 2, "warning": 1}
_STATUS_GROUP = {
    AlertStatus.OPEN: 0, AlertStatus.ESCALATED: 0, AlertStatus.RETURNED: 1,
    AlertStatus.ACKNOWLEDGED: 2, AlertStatus.SHELVED: 3, AlertStatus.OUT_OF_SERVICE: 4,
    AlertStatus.SUPPRESSED: 4, AlertStatus.RESOLVED: 5,
}


def hazard_of(metric: str, unit: str = "") -> str:
    """toxic, combustible or other, from a sensor's metric name and unit."""
    tokens = set(metric.lower().replace("-", "_").replace(" ", "_").split("_"))
    unit = unit.lower()
    if tokens & _COMBUSTIBLE or unit == "%lel":
        return "combustible"
    if tokens & _TOXIC or unit in ("ppm", "%oel", "mg/m3"):
        return "toxic"
    return "other"


def _level_of(severity: Severity) -> int:
    return 2 if severity.rank >= Severity.MAJOR.rank else 1


def alarm_class(event: Event) -> dict[str, Any]:
    """The alarm level (1 or 2) and hazard class an event gives the alert it raises."""
    level = _LEVELS.get(str(event.attrs.get("level", ""))) or _level_of(event.severity)
    return {"alarm_level": level,
            "hazard": hazard_of(str(event.attrs.get("metric", "")), event.unit or "")}


def rule_class(severity: Severity, measured: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A rule's own alarm class: level from its severity, hazard from the (metric, unit) of
    what it matches. An alert gets the stronger of this and its raising event's class."""
    hazards = [hazard_of(metric, unit) for metric, unit in measured]
    return {"alarm_level": _level_of(severity),
            "hazard": min(hazards, key=HAZARDS.index) if hazards else "other"}


def stronger(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {"alarm_level": max(a["alarm_level"], b["alarm_level"]),
            "hazard": min(a["hazard"], b["hazard"], key=HAZARDS.index)}


def sort_key(alert: Alert, grade: int | None = None) -> tuple[Any, ...]:
    """Sort ascending by this key to get the board's order (see the module docstring)."""
    level = alert.attrs.get("alarm_level")
    if not isinstance(level, int):
        level = 2 if alert.severity.rank >= Severity.MAJOR.rank else 1
    hazard = alert.attrs.get("hazard")
    hazard_rank = HAZARDS.index(hazard) if hazard in HAZARDS else len(HAZARDS) - 1
    return (_STATUS_GROUP[alert.status], -level, hazard_rank, -alert.severity.rank,
            grade if grade is not None else 5, -alert.updated_at.timestamp(), alert.alert_id)


def colour(alert: Alert) -> str:
    return COLOUR[alert.severity]
