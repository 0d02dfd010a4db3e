"""Store agents: events, alerts (latest state + transitions) and readings into ClickHouse.

Each takes batches bounded by size and time, writes them retrying while ClickHouse is away,
and lets Faust acknowledge the offsets only after the write: at-least-once, with duplicates
folded by the tables' ReplacingMergeTree keys.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import faust

from riskstream.config.schema import Config, TtlTable
from riskstream.deadletter import DeadLetter
from riskstream.events import Alert, EventError, ReadingSummary, format_time, utc_now
from riskstream.storage import rows
from riskstream.streams import metrics
from riskstream.streams.agents.common import dead_letter, source_of, store_until_done
from riskstream.streams.decode import RawRecord, SharedDecoder, decode_events
from riskstream.streams.registry import SiteRegistry
from riskstream.streams.sinks.clickhouse import TableSink

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Timed(Protocol):
    @property
    def ts(self) -> datetime: ...

    @property
    def site_id(self) -> str: ...

    def to_json(self) -> bytes: ...


Timed = TypeVar("Timed", bound=_Timed)


def register_store(app: faust.App, cfg: Config, new_client: Callable[[], Any],
                   decoder: SharedDecoder | None = None) -> None:
    """``new_client`` makes a ClickHouse client; each sink gets its own (they run in threads)."""
    topics = cfg.kafka.topics
    db = cfg.clickhouse.database
    size, within = cfg.clickhouse.batch_size, cfg.clickhouse.batch_seconds
    partitions = cfg.kafka.partitions
    dlq = app.topic(topics.dlq, partitions=partitions)
    registry = SiteRegistry(cfg)

    async def decode_all(batch: list[Any], decode: Callable[[bytes], T], stage: str) -> list[T]:
        good: list[T] = []
        for ev in batch:
            try:
                if ev.value is None:
                    raise EventError("payload", "empty record (tombstone)")
                good.append(decode(ev.value))
            except EventError as exc:
                site = ev.key.decode("utf-8", "replace") if ev.key else None
                await dead_letter(dlq, DeadLetter(stage, str(exc), source_of(ev), ev.value or b"",
                                                  site_id=site))
        return good

    # Enrichment from the site registry happens while the rows are built.
    events_sink = TableSink(new_client(), db, replace(rows.EVENTS, context=registry.context))
    alerts_sink = TableSink(new_client(), db, rows.ALERTS)
    transitions_sink = TableSink(new_client(), db, rows.TRANSITIONS)
    readings_sink = TableSink(new_client(), db, rows.READINGS)

    ttl = cfg.clickhouse.ttl_days

    async def within_retention(items: list[Timed], table: TtlTable, stage: str) -> list[Timed]:
        """Rows older than the table's TTL would be deleted by ClickHouse unseen: DLQ them."""
        days = ttl.get(table, 0)
        if not days:
            return items
        oldest = utc_now() - timedelta(days=days)
        kept = []
        for item in items:
            if item.ts >= oldest:
                kept.append(item)
                continue
            await dead_letter(dlq, DeadLetter(
                stage, f"ts: {format_time(item.ts)} is older than the {table} table's retention "
                f"of {days} days (clickhouse.ttl_days): ClickHouse would delete it unseen",
                table, item.to_json(), "expired", item.site_id))
        return kept

    async def decode_event_batch(batch: list[Any]) -> list[Any]:
        events, dead = decode_events((RawRecord(ev.value, ev.key, source_of(ev)) for ev in batch),
                                     decode=decoder.decode if decoder else None)
        for dl in dead:
            await dead_letter(dlq, dl)
        return await within_retention(events, "events", "worker.store-events")

    async def decode_readings(batch: list[Any]) -> list[Any]:
        summaries = await decode_all(batch, ReadingSummary.from_json, "worker.decode-reading")
        return await within_retention(summaries, "readings", "worker.store-readings")

    def store_agent(topic: str, name: str, decode: Callable[[list[Any]], Awaitable[list[Any]]],
                    sinks: list[TableSink[Any]]) -> None:
        """One thin agent: batch, decode (bad records to the DLQ), write every sink."""

        @app.agent(app.topic(topic, partitions=partitions), name=name)
        async def store(stream: Any) -> None:
            async for batch in stream.take_events(size, within=within):
                metrics.CONSUMED.labels(name).inc(len(batch))
                items = await decode(batch)
                for sink in sinks:
                    await store_until_done(sink, items)

    store_agent(topics.events, "store-events", decode_event_batch, [events_sink])
    store_agent(topics.alerts, "store-alerts",
                lambda b: decode_all(b, Alert.from_json, "worker.decode-alert"),
                [alerts_sink, transitions_sink])
    store_agent(topics.readings, "store-readings", decode_readings, [readings_sink])
