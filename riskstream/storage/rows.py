"""Map contract objects to ClickHouse rows (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from riskstream.events import Alert, AlertStatus, Event, ReadingSummary

T = TypeVar("T")


@dataclass(frozen=True)
class TableMapping(Generic[T]):
    table: str
    columns: list[str]

    def rows(self, items: Sequence[T]) -> list[list[Any]]:
        raise NotImplementedError


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


# (site_id, point_id) -> (district, attrs to add): what the site registry knows
EventContext = Callable[[str, str | None], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class EventRows(TableMapping[Event]):
    context: EventContext | None = None  # enrichment applied while building the rows

    def rows(self, items: Sequence[Event]) -> list[list[Any]]:
        out = []
        context = self.context
        for e in items:
            district, attrs = e.district, e.attrs
            if context is not None:  # no enriched copy of each event: the row is the copy
                known, extra = context(e.site_id, e.point_id)
                district = district or known
                attrs = {**attrs, **extra} if extra else attrs
            out.append([
                e.event_id, e.schema, e.kind, e.site_id, district, e.source_id, e.point_id or "",
                e.zone or "", e.ts, e.detected_at, e.score, e.severity.value, e.value,
                e.unit or "", e.model or "", _json(attrs), e.snapshot or "",
            ])
        return out


class AlertRows(TableMapping[Alert]):
    def rows(self, items: Sequence[Alert]) -> list[list[Any]]:
        out = []
        for a in items:
            opened = a.lifecycle.opened_at or a.first_ts
            resolved = a.updated_at if a.status is AlertStatus.RESOLVED else None
            out.append([
                a.alert_id, a.revision, a.rule, a.site_id, a.district, a.severity.value,
                a.status.value, a.first_ts, a.last_ts, opened, a.updated_at,
                a.lifecycle.acknowledged_at, resolved, list(a.event_ids), a.explanation,
                _json(a.attrs),
            ])
        return out


class TransitionRows(TableMapping[Alert]):
    def rows(self, items: Sequence[Alert]) -> list[list[Any]]:
        out = []
        for a in items:
            action = a.lifecycle.last_action
            mine = action is not None and action.revision == a.revision  # an action's revision
            out.append([
                a.alert_id, a.revision, a.site_id, a.district, a.rule, a.status.value,
                a.severity.value, a.updated_at, action.by if mine and action else "",
                action.comment if mine and action else "",
            ])
        return out


class ReadingRows(TableMapping[ReadingSummary]):
    def rows(self, items: Sequence[ReadingSummary]) -> list[list[Any]]:
        return [[r.site_id, r.source_id, r.point_id, r.metric, r.unit, r.ts, r.window_s, r.min,
                 r.max, r.mean, r.last, r.count] for r in items]


EVENTS = EventRows("events", [
    "event_id", "schema", "kind", "site_id", "district", "source_id", "point_id", "zone", "ts",
    "detected_at", "score", "severity", "value", "unit", "model", "attrs", "snapshot",
])
ALERTS = AlertRows("alerts", [
    "alert_id", "revision", "rule", "site_id", "district", "severity", "status", "first_ts",
    "last_ts", "opened_at", "updated_at", "acknowledged_at", "resolved_at", "event_ids",
    "explanation", "attrs",
])
TRANSITIONS = TransitionRows("alert_transitions", [
    "alert_id", "revision", "site_id", "district", "rule", "status", "severity", "at", "actor",
    "comment",
])
READINGS = ReadingRows("readings", [
    "site_id", "source_id", "point_id", "metric", "unit", "ts", "window_s", "min", "max", "mean",
    "last", "count",
])
