"""Video incidents with a lifecycle (pure; time is passed in): one incident, one event stream.

Per key (camera, kind, zone): the first detection *starts* an incident; while detections
continue, at most one *update* per ``update_s`` carries the peak score so far; ``end_s``
without a detection *ends* it. Every change shares the incident id, so the command center
sees one incident, not one event per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from riskstream.events import new_event_id


@dataclass(slots=True)
class Incident:
    incident_id: str
    started: float
    last_seen: float
    last_sent: float
    peak: float
    detections: int = 1
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    phase: str  # start | update | end
    key: tuple[str, str, str]
    incident: Incident
    score: float


class IncidentTracker:
    def __init__(self, update_s: float, end_s: float) -> None:
        self.update_s, self.end_s = update_s, end_s
        self.open: dict[tuple[str, str, str], Incident] = {}

    def observe(
        self,
        key: tuple[str, str, str],
        detected: bool,
        score: float,
        now: float,
        attrs: dict[str, object] | None = None,
    ) -> list[Change]:
        inc = self.open.get(key)
        if not detected:
            return []
        if inc is None:
            inc = Incident(new_event_id(), now, now, now, score, attrs=dict(attrs or {}))
            self.open[key] = inc
            return [Change("start", key, inc, score)]
        inc.last_seen, inc.peak, inc.detections = now, max(inc.peak, score), inc.detections + 1
        inc.attrs.update(attrs or {})
        if now - inc.last_sent >= self.update_s:
            inc.last_sent = now
            return [Change("update", key, inc, score)]
        return []

    def expire(self, now: float) -> list[Change]:
        ended = [k for k, inc in self.open.items() if now - inc.last_seen >= self.end_s]
        return [Change("end", k, self.open.pop(k), 0.0) for k in ended]

    def close_all(self) -> list[Change]:
        changes = [Change("end", k, inc, 0.0) for k, inc in self.open.items()]
        self.open.clear()
        return changes
