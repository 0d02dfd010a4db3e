"""Versioned, idempotent ClickHouse migrations, recorded in ``schema_migrations``.

Append new migrations at the end with the next number; never edit an applied one.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

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
]


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
        client.command(ddl.format(db=database))
        client.insert(f"{database}.schema_migrations", [[version, description]],
                      column_names=["version", "description"])
        log.info("clickhouse migration %d applied: %s", version, description)
        applied.append(version)
    return applied
