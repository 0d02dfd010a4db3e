"""The Faust app: topics, and a thin agent that stores ``rs.events`` in ClickHouse in batches.

Per batch (at most ``batch_size`` records or ``batch_seconds``): decode (bad records to
``rs.dlq`` with the reason), write to ClickHouse retrying while it is away, then let Faust
acknowledge the offsets: at-least-once, and duplicates fold in the ReplacingMergeTree.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import faust

from riskstream.config.schema import Config
from riskstream.deadletter import DeadLetter
from riskstream.kafka_settings import aiokafka_config
from riskstream.streams import metrics
from riskstream.streams.decode import RawRecord, decode_events
from riskstream.streams.sinks.clickhouse import ClickHouseEventSink, SinkUnavailable

log = logging.getLogger(__name__)


def _broker_credentials(cfg: Config) -> Any:
    conf = aiokafka_config(cfg.kafka)
    if "sasl_mechanism" in conf:
        return faust.SASLCredentials(
            username=conf["sasl_plain_username"], password=conf["sasl_plain_password"],
            ssl_context=conf.get("ssl_context"), mechanism=conf["sasl_mechanism"],
        )
    if "ssl_context" in conf:
        return faust.SSLCredentials(conf["ssl_context"])
    return None


def create_app(cfg: Config, sink: ClickHouseEventSink, datadir: Path) -> faust.App:
    session_timeout = cfg.worker.session_timeout_s
    app = faust.App(
        cfg.worker.app_id,
        broker=f"kafka://{cfg.kafka.bootstrap}",
        broker_credentials=_broker_credentials(cfg),
        datadir=str(datadir),
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=cfg.kafka.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # Faust's 60 s defaults make a group join take ~30 s; join in seconds instead.
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=max(0.5, session_timeout / 10),
        broker_rebalance_timeout=max(session_timeout * 2, 10.0),
        stream_wait_empty=False,
        web_enabled=False,
        autodiscover=False,
    )
    topics = cfg.kafka.topics
    events_topic = app.topic(topics.events, partitions=cfg.kafka.partitions)
    dlq_topic = app.topic(topics.dlq, partitions=cfg.kafka.partitions)
    batch_size, batch_seconds = cfg.clickhouse.batch_size, cfg.clickhouse.batch_seconds

    async def to_dlq(dead: list[DeadLetter]) -> None:
        for dl in dead:
            metrics.DEAD_LETTERS.labels(dl.stage).inc()
            log.warning("dead letter source=%s reason=%s", dl.source, dl.reason)
            await dlq_topic.send(key=dl.key, value=dl.to_json())

    async def store(events: list[Any]) -> None:
        while True:
            try:
                written = await asyncio.get_running_loop().run_in_executor(None, sink.write, events)
            except SinkUnavailable as exc:
                metrics.SINK_RETRIES.inc()
                log.error("%s; retrying in %.1f s", exc, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            metrics.STORED.inc(written)
            return

    @app.agent(events_topic, name="store-events")
    async def store_events(stream: Any) -> None:
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            metrics.CONSUMED.inc(len(batch))
            records = [
                RawRecord(ev.value, ev.key, f"{ev.message.topic}/{ev.message.partition}"
                          f"@{ev.message.offset}")
                for ev in batch
            ]
            events, dead = decode_events(records)
            await to_dlq(dead)
            await store(events)

    return app
