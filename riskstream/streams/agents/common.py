"""What the agents share: record sources for DLQ entries, dead-lettering, retrying sinks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from riskstream.deadletter import DeadLetter
from riskstream.streams import metrics
from riskstream.streams.sinks.clickhouse import SinkUnavailable, TableSink
from riskstream.streams.watchdog import mark_activity

log = logging.getLogger(__name__)


def source_of(event: Any) -> str:
    msg = event.message
    return f"{msg.topic}/{msg.partition}@{msg.offset}"


async def dead_letter(topic: Any, dl: DeadLetter) -> None:
    metrics.DEAD_LETTERS.labels(dl.stage).inc()
    log.warning("dead letter stage=%s source=%s reason=%s", dl.stage, dl.source, dl.reason)
    await topic.send(key=dl.key, value=dl.to_json())


async def store_until_done(sink: TableSink[Any], items: Sequence[Any]) -> int:
    """Write ``items``, waiting out outages; the caller acks offsets only after this returns."""
    while True:
        try:
            written = await asyncio.get_running_loop().run_in_executor(None, sink.write, items)
        except SinkUnavailable as exc:
            mark_activity()  # waiting for the store is not a stall
            metrics.SINK_RETRIES.labels(sink.table).inc()
            metrics.SINK_UP.labels(sink.table).set(0)
            log.error("%s; retrying in %.1f s", exc, exc.retry_after)
            await asyncio.sleep(exc.retry_after)
            continue
        metrics.SINK_UP.labels(sink.table).set(1)
        metrics.STORED.labels(sink.table).inc(written)
        return written
