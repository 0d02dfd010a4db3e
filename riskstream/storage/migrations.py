"""Versioned, idempotent ClickHouse migrations, recorded in ``schema_migrations``.

Append new migrations at the end with the next number; never edit an applied one.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

def _rollup_table(name: str, bucket: str) -> str:
    """A readings rollup: min/max/sum/count/last as aggregate states per time bucket."""
    return f"""
CREATE TABLE IF NOT EXISTS {{db}}.{name} (
    site_id   LowCardinality(String),
    source_id LowCardinality(String),
    metric    LowCardinality(String),
    unit      LowCardinality(String),
    {bucket:<9} DateTime('UTC') CODEC(Delta, ZSTD),
    vmin      AggregateFunction(min, Float64),
    vmax      AggregateFunction(max, Float64),
    vsum      AggregateFunction(sum, Float64),
    vcount    AggregateFunction(sum, UInt64),
    vlast     AggregateFunction(argMax, Float64, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM({bucket})
ORDER BY (site_id, source_id, metric, unit, {bucket})"""


MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "events: one row per detector event; ReplacingMergeTree folds re-delivered event_ids", """
CREATE TABLE IF NOT EXISTS {db}.events (
    event_id     String,
    schema       UInt8,
    kind         LowCardinality(String),
    site_id      LowCardinality(String),
    district     LowCardinality(String),
    source_id    LowCardinality(String),
    point_id     LowCardinality(String),
    zone         LowCardinality(String),
    ts           DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    detected_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD),
    score        Float32,
    severity     LowCardinality(String),
    value        Nullable(Float64) CODEC(Gorilla, ZSTD),
    unit         LowCardinality(String),
    model        LowCardinality(String),
    attrs        String CODEC(ZSTD),
    snapshot     String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, kind, ts, event_id)
"""),
    (2, "alerts: latest state per alert (ReplacingMergeTree on revision)", """
CREATE TABLE IF NOT EXISTS {db}.alerts (
    alert_id        String,
    revision        UInt32,
    rule            LowCardinality(String),
    site_id         LowCardinality(String),
    district        LowCardinality(String),
    severity        LowCardinality(String),
    status          LowCardinality(String),
    first_ts        DateTime64(3, 'UTC'),
    last_ts         DateTime64(3, 'UTC'),
    opened_at       DateTime64(3, 'UTC'),
    updated_at      DateTime64(3, 'UTC'),
    acknowledged_at Nullable(DateTime64(3, 'UTC')),
    resolved_at     Nullable(DateTime64(3, 'UTC')),
    event_ids       Array(String),
    explanation     String CODEC(ZSTD),
    attrs           String CODEC(ZSTD)
) ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(first_ts)
ORDER BY (district, site_id, alert_id)
"""),
    (3, "alert_transitions: every published alert revision, once", """
CREATE TABLE IF NOT EXISTS {db}.alert_transitions (
    alert_id    String,
    revision    UInt32,
    site_id     LowCardinality(String),
    district    LowCardinality(String),
    rule        LowCardinality(String),
    status      LowCardinality(String),
    severity    LowCardinality(String),
    at          DateTime64(3, 'UTC'),
    actor       String,
    comment     String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, revision)
"""),
    (4, "readings: per-second summaries from the edge (min/max/mean/last/count)", """
CREATE TABLE IF NOT EXISTS {db}.readings (
    site_id    LowCardinality(String),
    source_id  LowCardinality(String),
    point_id   LowCardinality(String),
    metric     LowCardinality(String),
    unit       LowCardinality(String),
    ts         DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    window_s   UInt16,
    min        Float64 CODEC(Gorilla, ZSTD),
    max        Float64 CODEC(Gorilla, ZSTD),
    mean       Float64 CODEC(Gorilla, ZSTD),
    last       Float64 CODEC(Gorilla, ZSTD),
    count      UInt32 CODEC(T64, ZSTD)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (site_id, source_id, window_s, ts)
"""),
    (5, "readings_1m: per-minute rollup (AggregatingMergeTree) fed by a materialized view",
     _rollup_table("readings_1m", "minute") + """;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.readings_1m_mv TO {db}.readings_1m AS
SELECT site_id, source_id, metric, unit, toStartOfMinute(ts) AS minute,
       minState(min) AS vmin, maxState(max) AS vmax, sumState(mean * count) AS vsum,
       sumState(toUInt64(count)) AS vcount, argMaxState(last, ts) AS vlast
FROM {db}.readings WHERE window_s = 1
GROUP BY site_id, source_id, metric, unit, minute
"""),
    (6, "readings_1h: per-hour rollup fed from the per-minute one",
     _rollup_table("readings_1h", "hour") + """;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.readings_1h_mv TO {db}.readings_1h AS
SELECT site_id, source_id, metric, unit, toStartOfHour(minute) AS hour,
       minMergeState(vmin) AS vmin, maxMergeState(vmax) AS vmax, sumMergeState(vsum) AS vsum,
       sumMergeState(vcount) AS vcount, argMaxMergeState(vlast) AS vlast
FROM {db}.readings_1m
GROUP BY site_id, source_id, metric, unit, hour
"""),
    (7, "center_audit: the console's append-only audit trail", """
CREATE TABLE IF NOT EXISTS {db}.center_audit (
    at        DateTime64(3, 'UTC'),
    actor     String,
    role      LowCardinality(String),
    district  LowCardinality(String),
    action    LowCardinality(String),
    alert_id  String,
    site_id   LowCardinality(String),
    outcome   LowCardinality(String),
    status    UInt16,
    detail    String CODEC(ZSTD),
    address   String,
    session   String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, actor)
"""),
]

# Retention per table, applied at every start (ALTER ... MODIFY TTL is idempotent).
TTL_COLUMNS = {"events": "ts", "readings": "ts", "readings_1m": "minute", "readings_1h": "hour",
               "alert_transitions": "at", "center_audit": "at"}



def migrate(client: Any, database: str) -> list[int]:
    """Create the database and apply every migration not yet recorded; returns those applied."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations ("
        " version UInt32, description String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
        " ENGINE = ReplacingMergeTree ORDER BY version"
    )
    done = {row[0] for row in client.query(
        f"SELECT version FROM {database}.schema_migrations FINAL").result_rows}
    applied = []
    for version, description, ddl in MIGRATIONS:
        if version in done:
            continue
        for statement in ddl.format(db=database).split(";\n"):
            if statement.strip():
                client.command(statement)
        client.insert(f"{database}.schema_migrations", [[version, description]],
                      column_names=["version", "description"])
        log.info("clickhouse migration %d applied: %s", version, description)
        applied.append(version)
    return applied


def apply_retention(client: Any, database: str, ttl_days: dict[str, int]) -> None:
    """Set each table's TTL from the configuration (0 days: keep forever)."""
    for table, days in ttl_days.items():
        column = TTL_COLUMNS[table]
        if days > 0:
            client.command(f"ALTER TABLE {database}.{table} MODIFY TTL "
                           f"toDateTime({column}) + INTERVAL {int(days)} DAY")
        elif "\nTTL " in str(client.command(f"SHOW CREATE TABLE {database}.{table}")):
            client.command(f"ALTER TABLE {database}.{table} REMOVE TTL")
