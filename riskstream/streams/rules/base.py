"""What every correlation rule shares: the Rule contract, findings, matching, sightings.

A rule is pure logic with time passed in: ``key(event)`` says which scope of the
site the event belongs to (None: not for this rule), ``on_event(state, event)`` and
``on_tick(state, now_ms)`` return the new state (None: discard) and findings. State is plain
JSON-able data so that it can live in a Faust table and recover from its changelog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from riskstream.config.rules import EventMatch, LifecycleOptions
from riskstream.events import Event

State = dict[str, Any]
# A compact reference to an event kept in rule state: [ts_ms, event_id, source_id, point_id, text]
Sighting = list[Any]
MAX_SIGHTINGS = 200


CLEAR = "clear"  # a Finding whose attrs hold CLEAR: the condition of its scope has ended


@dataclass(frozen=True)
class Finding:
    """A rule's conclusion about one scope of one site; the alert book turns it into an alert."""

    rule: str
    key: str
    event_ids: tuple[str, ...]
    first_ms: int
    last_ms: int
    explanation: str
    attrs: dict[str, Any] = field(default_factory=dict)


class Rule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def options(self) -> LifecycleOptions: ...

    def key(self, event: Event) -> str | None: ...

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]: ...

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]: ...


def ts_ms(event: Event) -> int:
    return int(event.ts.timestamp() * 1000)


def matches(m: EventMatch, event: Event) -> bool:
    # A video incident's "end" says it stopped: never a sighting of anything.
    if event.attrs.get("phase") == "end":
        return False
    if m.kind is not None:
        if m.kind.endswith(".*"):
            if not event.kind.startswith(m.kind[:-1]):
                return False
        elif event.kind != m.kind:
            return False
    return (
        event.severity.rank >= m.min_severity.rank
        and event.score >= m.min_score
        and (m.metric is None or event.attrs.get("metric") == m.metric)
        and (m.source_id is None or event.source_id == m.source_id)
        and (m.point_id is None or event.point_id == m.point_id)
        and (m.zone is None or event.zone == m.zone)
    )


def scope_key(scope: str, event: Event) -> str | None:
    if scope == "site":
        return "site"
    if scope == "point":
        return event.point_id
    return event.zone or event.point_id  # a zone falls back to the camera's risk point


def describe(event: Event) -> str:
    value = f" {event.value:g} {event.unit or ''}".rstrip() if event.value is not None else ""
    where = f" zone {event.zone}" if event.zone else ""
    return f"{event.source_id} {event.kind} {event.severity.value}{value}{where} at {event.ts:%H:%M:%S}"


def sighting(event: Event) -> Sighting:
    return [ts_ms(event), event.event_id, event.source_id, event.point_id, describe(event)]


def prune(sightings: list[Sighting], oldest_ms: int) -> list[Sighting]:
    """Sightings not older than ``oldest_ms``, newest MAX_SIGHTINGS kept."""
    kept = [s for s in sightings if s[0] >= oldest_ms]
    return kept[-MAX_SIGHTINGS:]


def insert_sorted(sightings: list[Sighting], item: Sighting) -> list[Sighting]:
    """Insert keeping time order (late events land where they belong)."""
    out = list(sightings)
    i = len(out)
    while i > 0 and out[i - 1][0] > item[0]:
        i -= 1
    out.insert(i, item)
    return out


def label(m: EventMatch) -> str:
    if m.label:
        return m.label
    parts = [m.kind or "any event", f">= {m.min_severity.value}"]
    if m.metric:
        parts.insert(0, m.metric)
    if m.zone:
        parts.append(f"in zone {m.zone}")
    return " ".join(parts)


def window_text(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"
