"""Store agents: events, alerts (latest state + transitions) and readings into ClickHouse.

Each takes batches bounded by size and time, writes them retrying while ClickHouse is away,
and lets Faust acknowledge the offsets only after the write: at-least-once, with duplicates
folded by the tables' ReplacingMergeTree keys.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import faust

from riskstream.config.schema import Config
from riskstream.deadletter import DeadLetter
from riskstream.events import Alert, EventError, ReadingSummary
from riskstream.storage import rows
from riskstream.streams import metrics
from riskstream.streams.agents.common import dead_letter, source_of, store_until_done
from riskstream.streams.decode import RawRecord, SharedDecoder, decode_events
from riskstream.streams.registry import SiteRegistry
from riskstream.streams.sinks.clickhouse import TableSink

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    async def decode_event_batch(batch: list[Any]) -> list[Any]:
        events, dead = decode_events((RawRecord(ev.value, ev.key, source_of(ev)) for ev in batch),
                                     decode=decoder.decode if decoder else None)
        for dl in dead:
            await dead_letter(dlq, dl)
        return events

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
    store_agent(topics.readings, "store-readings",
                lambda b: decode_all(b, ReadingSummary.from_json, "worker.decode-reading"),
                [readings_sink])
