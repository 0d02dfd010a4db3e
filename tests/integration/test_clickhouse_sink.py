"""The event sink and migrations against the real ClickHouse engine (chdb, in-process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from riskstream.events import Severity
from riskstream.storage.migrations import MIGRATIONS, migrate
from riskstream.storage.rows import EVENTS
from riskstream.streams.sinks.clickhouse import SinkUnavailable, TableSink
from riskstream.testing import make_event

pytestmark = pytest.mark.integration


def test_migrations_apply_once(clickhouse: Any, database: str) -> None:
    assert migrate(clickhouse, database) == [v for v, _, _ in MIGRATIONS]
    assert migrate(clickhouse, database) == []
    tables = {r[0] for r in clickhouse.query(f"SHOW TABLES FROM {database}").result_rows}
    assert {"events", "schema_migrations"} <= tables
    engine = clickhouse.command(
        f"SELECT engine FROM system.tables WHERE database = '{database}' AND name = 'events'")
    assert engine == "ReplacingMergeTree"


def test_events_round_trip_through_the_table(clickhouse: Any, database: str) -> None:
    migrate(clickhouse, database)
    sink = TableSink(clickhouse, database, EVENTS)
    t0 = datetime(2026, 11, 29, 10, 0, 0, 250000, tzinfo=UTC)
    events = [
        make_event(ts=t0, value=31.5, attrs={"level": "warning", "threshold": 25}),
        make_event(ts=t0 + timedelta(seconds=3), severity=Severity.CRITICAL, score=1.0,
                   value=None, unit=None, point_id=None, attrs={}),
    ]
    assert sink.write(events) == 2
    rows = clickhouse.query(
        f"SELECT event_id, kind, site_id, district, source_id, point_id, toUnixTimestamp64Milli(ts),"
        f" score, severity, value, unit, model, attrs FROM {database}.events ORDER BY ts").result_rows
    assert [r[0] for r in rows] == [e.event_id for e in events]
    first, second = rows
    assert first[1:6] == ("sensor.threshold", "plant-east", "binhai", "gas-tf-01", "tank-farm")
    assert first[6] == int(t0.timestamp() * 1000)
    assert (first[7], first[8], first[9], first[10]) == (0.5, "warning", 31.5, "%LEL")
    assert json.loads(first[12]) == {"level": "warning", "threshold": 25}
    assert (second[5], second[8], second[9], second[10]) == ("", "critical", None, "")


def test_redelivered_events_are_stored_once(clickhouse: Any, database: str) -> None:
    migrate(clickhouse, database)
    sink = TableSink(clickhouse, database, EVENTS)
    events = [make_event(value=float(i)) for i in range(50)]
    sink.write(events)
    sink.write(events[10:30])  # an at-least-once replay of part of the stream
    raw = clickhouse.command(f"SELECT count() FROM {database}.events")
    final = clickhouse.command(f"SELECT count() FROM {database}.events FINAL")
    assert (raw, final) == (70, 50)


def test_unavailable_store_raises_with_retry_after(clickhouse: Any, database: str) -> None:
    migrate(clickhouse, database)
    sink = TableSink(clickhouse, database, EVENTS)
    clickhouse.command(f"DROP TABLE {database}.events")
    with pytest.raises(SinkUnavailable) as first:
        sink.write([make_event()])
    with pytest.raises(SinkUnavailable) as second:
        sink.write([make_event()])
    assert 0 < first.value.retry_after < second.value.retry_after <= 5
    migrate(clickhouse, database)  # recorded as applied: the table stays missing
    clickhouse.command(f"DELETE FROM {database}.schema_migrations WHERE version = 1")
    migrate(clickhouse, database)
    assert sink.write([make_event()]) == 1
