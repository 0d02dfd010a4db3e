"""Map contract objects to ClickHouse rows (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from riskstream.events import Event

EVENT_COLUMNS = [
    "event_id", "schema", "kind", "site_id", "district", "source_id", "point_id", "zone", "ts",
    "detected_at", "score", "severity", "value", "unit", "model", "attrs", "snapshot",
]


def event_rows(events: Sequence[Event]) -> list[list[Any]]:
    return [[
        e.event_id, e.schema, e.kind, e.site_id, e.district, e.source_id, e.point_id or "",
        e.zone or "", e.ts, e.detected_at, e.score, e.severity.value, e.value, e.unit or "",
        e.model or "", json.dumps(e.attrs, separators=(",", ":")), e.snapshot or "",
    ] for e in events]
