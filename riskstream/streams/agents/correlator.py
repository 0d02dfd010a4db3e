"""The correlator agent: a thin Faust adapter around :class:`CorrelatorCore`.

The core holds every at-least-once rule (see :mod:`riskstream.streams.correlator_core`); this
module gives it a Faust table as its store, Faust topics as its outlet, and the consumer's
view of which partitions this worker owns and whether they are caught up.

One table holds both the site states and the recent-id segments, each written to the
site's own changelog partition (the partition of the site's records), so that a stored
state implies its segments were stored before it. Writes name their partition explicitly:
Faust's own partitioner would need the changelog topic's metadata, which the producer may
not have yet right after start-up (the first batch then failed in ``partitions_for_topic``).

When delivering or storing a batch keeps failing, the process exits without acknowledging
the batch (Faust acknowledges a ``take_events`` batch when the loop body finishes, even by
an exception), and the supervisor starts a fresh worker that reads the batch again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import weakref
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import faust
from faust.streams import _current_event
from faust.types import TP

from riskstream.config.schema import Config
from riskstream.streams import metrics
from riskstream.streams.correlator_core import (
    CorrelatorCore,
    CorrelatorStuck,
    Outgoing,
    Record,
    partition_of,
)
from riskstream.streams.decode import SharedDecoder
from riskstream.streams.dedup import is_segment_key, site_of
from riskstream.streams.watchdog import STALL_EXIT_CODE

log = logging.getLogger(__name__)


class _PartitionContext:
    """Stands in for Faust's current event while the table is written outside an event.

    Faust files a table key under ``current_event().message.partition`` (the changelog
    partition, and the RocksDB store's partition); our writes happen per site after a batch
    (or on a tick), so we say which partition explicitly: the site's own.
    """

    class _Message:
        def __init__(self, topic: str, partition: int) -> None:
            self.topic = topic
            self.partition = partition

    def __init__(self, topic: str, partition: int) -> None:
        self.message = self._Message(topic, partition)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        token = _current_event.set(weakref.ref(self))  # type: ignore[arg-type]
        try:
            yield
        finally:
            _current_event.reset(token)


class TableStore:
    """:class:`riskstream.streams.correlator_core.SiteStore` on one Faust table."""

    def __init__(self, table: Any, source_topic: str, partitions: int, app: Any = None) -> None:
        self._table, self._topic, self._partitions = table, source_topic, partitions
        self._app = app

    async def flush(self) -> None:
        """Wait for the changelog writes (Faust buffers them in its producer)."""
        if self._app is not None:
            await self._app.producer.flush()

    def get(self, key: bytes) -> bytes | None:
        value = self._table.get(key)
        return bytes(value) if value else None

    def put(self, site: str, key: bytes, value: bytes | None) -> None:
        with _PartitionContext(self._topic, partition_of(site, self._partitions)).active():
            if value is None:
                self._table.pop(key, None)
            else:
                self._table[key] = value

    def items(self, partitions: Collection[int]) -> Iterable[tuple[bytes, bytes]]:
        for key, value in list(self._table.items()):
            site = site_of(key) if is_segment_key(key) else key.decode("utf-8", "replace")
            if value and partition_of(site, self._partitions) in partitions:
                yield key, value


PRODUCER_HEADER = "rs-producer"  # which worker process produced a record: host:pid


class TopicOutlet:
    """:class:`riskstream.streams.correlator_core.Outlet` on Faust topics.

    Every record carries an ``rs-producer`` header naming the worker process (host:pid), so
    an operator can tell which worker published an alert revision (after a rebalance, say)."""

    def __init__(self, app: faust.App, partitions: int) -> None:
        self._app, self._partitions = app, partitions
        self._topics: dict[str, Any] = {}
        self._headers = [(PRODUCER_HEADER, f"{socket.gethostname()}:{os.getpid()}".encode())]

    def _topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self._app.topic(name, partitions=self._partitions)
        return self._topics[name]

    async def send(self, messages: Sequence[Outgoing]) -> None:
        futures = [await self._topic(m.topic).send(key=m.key, value=m.value,
                                                    partition=m.partition,
                                                    headers=self._headers)
                   for m in messages]
        for fut in futures:
            await fut


def register_correlator(app: faust.App, cfg: Config, dlq_decode_errors: bool,
                        decoder: SharedDecoder | None = None) -> CorrelatorCore:
    topics = cfg.kafka.topics
    partitions = cfg.kafka.partitions
    # Keys are raw bytes: a site id (its state) or site id + 0x1f + number (a segment).
    table = app.Table("correlation", default=None, partitions=partitions, key_type=bytes,
                      value_type=bytes, use_partitioner=False,
                      help="Correlation state per site (rule windows, alerts, replay "
                           "watermark) and its recent-id segments")
    core = CorrelatorCore(cfg, TableStore(table, topics.events, partitions, app),
                          TopicOutlet(app, partitions),
                          decode=decoder.decode if decoder else None,
                          ready=lambda: not (app.rebalancing or app.in_recovery),
                          ready_state=lambda: (f"rebalancing={app.rebalancing} "
                                               f"in_recovery={app.in_recovery}"))
    core.dlq_decode_errors = dlq_decode_errors
    source = app.topic(topics.events, topics.alert_actions, topics.health, partitions=partitions)
    last_offset: dict[int, int] = {}  # rs.events partition -> highest offset handed to the core

    def actives() -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topics.events}

    def caught_up(partition: int) -> bool:
        """Nothing waits on the site's rs.events partition (its highwater is reached)."""
        tp = TP(topics.events, partition)
        try:
            highwater = app.consumer.highwater(tp)
        except Exception:  # the consumer is (re)starting
            return False
        if highwater is None:
            return False  # nothing fetched yet: the partition may hold a backlog
        committed = getattr(app.consumer, "_committed_offset", {}).get(tp) or 0
        return max(last_offset.get(partition, -1) + 1, int(committed)) >= int(highwater)

    def stop(exc: CorrelatorStuck) -> None:
        log.critical("%s; exiting without acknowledging the batch, for a restart", exc)
        logging.shutdown()
        os._exit(STALL_EXIT_CODE)  # the supervisor starts a fresh worker

    @app.agent(source, name="correlate")
    async def correlate(stream: Any) -> None:
        # A short wait lets batches grow: state is read and written once per site and batch.
        async for batch in stream.take_events(cfg.worker.correlate_batch, within=0.1):
            started = time.perf_counter()
            metrics.CONSUMED.labels("correlate").inc(len(batch))
            metrics.RECORD_AGE.observe(max(0.0, time.time() - batch[0].message.timestamp))
            records = [Record(ev.message.topic, ev.message.partition, ev.message.offset,
                              ev.key, ev.value, int(ev.message.timestamp * 1000))
                       for ev in batch]
            try:
                await core.on_batch(records, actives)
            except CorrelatorStuck as exc:
                stop(exc)
            for rec in records:
                if rec.topic == topics.events:
                    last_offset[rec.partition] = max(rec.offset, last_offset.get(rec.partition, -1))
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    faust_revoked = app._on_partitions_revoked

    async def on_revoked(revoked: Any) -> None:
        # Before Faust revokes (it waits for neither streams, stream_wait_empty=False, nor
        # timers, and skips everything when stopping): the batch or tick in flight finishes.
        await core.quiesce()
        await faust_revoked(revoked)

    app._on_partitions_revoked = on_revoked  # type: ignore[method-assign]
    faust_stop = app.on_stop

    async def on_stop() -> None:
        # Before Faust stops the consumer and leaves the group (seen: a stopping worker's
        # last batch stored its state after the new owner had recovered, and committed).
        await core.close()
        await faust_stop()

    app.on_stop = on_stop  # type: ignore[method-assign]

    @app.timer(interval=cfg.worker.tick_interval_s, name="correlate-tick")  # type: ignore[untyped-decorator]
    async def tick() -> None:
        try:
            await core.on_tick(actives(), caught_up)
        except CorrelatorStuck as exc:
            stop(exc)

    return core
