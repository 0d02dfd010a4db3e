"""The correlator agent: per-site state in a Faust table, pure SiteProcessor in between.

Records of one batch are grouped by site; each site's state is read once and every record is
applied inside its own error boundary. Then the alerts of all the batch's sites are published
together and their delivery awaited (one round trip per batch), and only then are the states
written back (one changelog record per site and batch).
The replay watermark (highest offset applied per topic) lives in the same state record, so
state and "already applied" can never disagree after a crash: a replayed record is recognised
and skipped, and alert ids are derived from their first event, so a replay cannot open a
second alert. Event ids re-sent by the edge are caught by the processor's recent-id index,
persisted per batch as small segments in a second table (see :mod:`riskstream.streams.dedup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Iterator
from typing import Any

import faust
import orjson
from aiokafka.partitioner import murmur2
from faust.streams import _current_event

from riskstream.config.schema import Config
from riskstream.deadletter import DeadLetter
from riskstream.events import (
    Alert,
    AlertAction,
    Event,
    EventError,
    Heartbeat,
    decode_event_record,
    payload_of,
)
from riskstream.streams import metrics
from riskstream.streams.agents.common import dead_letter, source_of
from riskstream.streams.correlate import Result, SiteProcessor, SiteState
from riskstream.streams.decode import SharedDecoder
from riskstream.streams.dedup import mark_applied, replayed, site_of

log = logging.getLogger(__name__)


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives ``key``."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class _PartitionContext:
    """Stands in for Faust's current event while the table is written outside an event.

    Faust's RocksDB store files a key under ``current_event().message.partition``; our writes
    happen per site after a batch (or on a tick), so we say which partition explicitly: the
    site's own, which is also where the changelog record goes (murmur2 of the raw key).
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


def _load(raw: bytes | None, site: str = "?") -> SiteState | None:
    """The stored state, or None. A record that cannot be read would otherwise fail every
    batch of its site forever (the replay hits it again): the site starts afresh, loudly."""
    if not raw:
        return None
    try:
        state = orjson.loads(raw)
        if not isinstance(state, dict):
            raise ValueError(f"expected an object, got {type(state).__name__}")
        return state
    except ValueError as exc:  # orjson.JSONDecodeError is one
        metrics.SKIPPED.labels("unreadable site state").inc()
        log.error("site %s: stored correlation state unreadable (%s); starting afresh", site, exc)
        return None


def _dump(state: SiteState) -> bytes:
    # orjson: the state is read and written once per site and batch, so this is hot.
    return orjson.dumps(state)


def register_correlator(app: faust.App, cfg: Config, dlq_decode_errors: bool,
                        decoder: SharedDecoder | None = None) -> None:
    topics = cfg.kafka.topics
    processor = SiteProcessor(cfg)
    partitions = cfg.kafka.partitions
    # Keys are the raw site id bytes (bytes types mean the raw codec): the changelog record
    # then lands where Kafka's murmur2 puts the site in rs.events. Values are JSON bytes.
    state_table = app.Table("site-state", default=None, partitions=partitions, key_type=bytes,
                            value_type=bytes, use_partitioner=True,
                            help="Correlation state per site: rule windows, alerts, replay "
                                 "watermark")
    dedup_table = app.Table("recent-event-ids", default=None, partitions=partitions,
                            key_type=bytes, value_type=bytes, use_partitioner=True,
                            help="Event ids seen within the dedup window, one segment per "
                                 "site and batch")
    recent = processor.recent
    loaded_for: set[int] | None = None  # the active partitions the recent ids were loaded for
    source = app.topic(topics.events, topics.alert_actions, topics.health, partitions=partitions)
    alerts_topic = app.topic(topics.alerts, partitions=partitions)
    dlq = app.topic(topics.dlq, partitions=partitions)
    decode = decoder.decode if decoder else (lambda _source, value: decode_event_record(value))
    lock = asyncio.Lock()  # the timer and the agent must not interleave on one site's state

    async def publish(alerts_by_site: list[tuple[str, list[Alert]]]) -> None:
        """Send every alert of a batch (or tick), then wait for all their deliveries: one
        round trip per batch rather than per site. States are written only after this returns,
        so a state never remembers an alert that is not in rs.alerts."""
        futures = [await alerts_topic.send(key=site.encode(), value=a.to_json())
                   for site, alerts in alerts_by_site for a in alerts]
        for fut in futures:
            await fut
        for _, alerts in alerts_by_site:
            for a in alerts:
                metrics.ALERTS.labels(a.status.value).inc()

    def apply_event(state: SiteState | None, site: str, event: Event,
                    now_ms: int) -> tuple[SiteState | None, Result]:
        _check_key(site, event.site_id)
        metrics.EVENTS_CORRELATED.inc()
        state, result = processor.on_event(state, event, now_ms)
        if result.duplicate:
            metrics.DUPLICATES.inc()
        return state, result

    def apply(state: SiteState | None, site: str, ev: Any, now_ms: int) -> tuple[SiteState | None, Result]:
        topic = ev.message.topic
        if topic == topics.alert_actions:
            action = AlertAction.from_json(ev.value)
            _check_key(site, action.site_id)
            return processor.on_action(state, action, now_ms)
        beat = Heartbeat.from_json(ev.value)
        _check_key(site, beat.site_id)
        return processor.on_heartbeat(state, beat, now_ms), Result()

    def active_partitions() -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives()
                if tp.topic == topics.events}

    def sync_recent(actives: set[int]) -> None:
        """After a (re)start or rebalance, rebuild the recent ids of the sites now owned."""
        nonlocal loaded_for
        if actives != loaded_for:
            skipped = recent.load((k, v) for k, v in dedup_table.items()
                                  if v and partition_of(site_of(k), partitions) in actives)
            if skipped:
                log.error("recent-event-ids: %d unreadable segments skipped; re-sent events "
                          "of their batches will not be recognised", skipped)
            loaded_for = actives

    def write(table: Any, site: str, key: bytes, value: bytes | None) -> None:
        with _PartitionContext(topics.events, partition_of(site, partitions)).active():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

    async def handle_site(site: str, records: list[Any]) -> tuple[bytes | None, SiteState | None,
                                                                   list[Alert]]:
        """Apply one site's records of a batch: (stored state, new state, alerts to publish)."""
        raw = state_table.get(site.encode())
        state = _load(raw, site)
        alerts: list[Alert] = []
        now_ms = int(time.time() * 1000)
        for ev in records:
            msg = ev.message
            if replayed(state, msg.topic, msg.offset):
                metrics.REPLAYED.inc()
                continue
            is_event = msg.topic == topics.events
            # one record may carry a batch of the site's events: each in its own boundary
            items: list[tuple[bytes, Any]] = (decode(source_of(ev), ev.value) if is_event
                                              else [(ev.value or b"", None)])
            for payload, item in items:
                try:
                    if isinstance(item, EventError):
                        raise item
                    if is_event:
                        state, result = apply_event(state, site, item, now_ms)
                    else:
                        state, result = apply(state, site, ev, now_ms)
                except EventError as exc:
                    if is_event and not dlq_decode_errors:
                        metrics.SKIPPED.labels("undecodable event").inc()  # the store DLQs it
                        continue
                    await dead_letter(dlq, DeadLetter("worker.correlate", str(exc),
                                                      source_of(ev), payload, site_id=site))
                    continue
                except Exception as exc:  # a bug must cost one record, not the worker
                    log.exception("correlating %s failed", source_of(ev))
                    await dead_letter(dlq, DeadLetter("worker.correlate",
                                                      f"internal error: {exc!r}",
                                                      source_of(ev), payload_of(payload, item),
                                                      "crash", site))
                    continue
                if result.rejected:
                    await dead_letter(dlq, DeadLetter("worker.action", result.rejected,
                                                      source_of(ev), payload, "rejected", site))
                alerts += result.alerts
            state = mark_applied(state or processor.new_state(site), msg.topic, msg.offset)
        return raw, state, alerts

    def store_site(site: str, raw: bytes | None, state: SiteState | None) -> None:
        """After the batch's alerts are delivered: the recent ids' segment and the new state."""
        segment = recent.seal(site)
        if segment is not None:
            write(dedup_table, site, *segment)
        if state is not None:
            new = _dump(state)
            if new != raw:
                write(state_table, site, site.encode(), new)

    @app.agent(source, name="correlate")
    async def correlate(stream: Any) -> None:
        # A short wait lets batches grow: state is read and written once per site and batch.
        async for batch in stream.take_events(cfg.worker.correlate_batch, within=0.1):
            started = time.perf_counter()
            metrics.CONSUMED.labels("correlate").inc(len(batch))
            metrics.RECORD_AGE.observe(max(0.0, time.time() - batch[0].message.timestamp))
            sync_recent(active_partitions())
            by_site: dict[str, list[Any]] = {}
            for ev in batch:
                site = ev.key.decode("utf-8", "replace") if ev.key else ""
                by_site.setdefault(site, []).append(ev)
            async with lock:
                done = [(site, *await handle_site(site, records))
                        for site, records in by_site.items()]
                await publish([(site, alerts) for site, _, _, alerts in done])
                for site, raw, state, _ in done:
                    store_site(site, raw, state)
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    @app.timer(interval=cfg.worker.tick_interval_s, name="correlate-tick")  # type: ignore[untyped-decorator]
    async def tick() -> None:
        actives = active_partitions()
        if not actives:
            return
        now_ms = int(time.time() * 1000)
        async with lock:
            sync_recent(actives)
            for key in recent.expire(now_ms):
                write(dedup_table, site_of(key), key, None)
            changes: list[tuple[str, bytes | None, SiteState | None, list[Alert]]] = []
            for key in list(state_table.keys()):
                site = key.decode()
                if partition_of(site, partitions) not in actives:
                    continue  # a standby copy, or a partition another worker owns
                raw = state_table.get(key)
                state = _load(raw, site)
                if state is None:
                    if raw:  # unreadable (logged once): drop it rather than log every tick
                        write(state_table, site, key, None)
                    continue
                new, result = processor.on_tick(state, now_ms)
                changes.append((site, raw, new, result.alerts))
            await publish([(site, alerts) for site, _, _, alerts in changes])
            for site, raw, new, _ in changes:
                dumped = None if new is None else _dump(new)
                if dumped != raw:
                    write(state_table, site, site.encode(), dumped)


def _check_key(key: str, site_id: str) -> None:
    if key != site_id:
        raise EventError("site_id", f"record keyed {key!r} carries site_id {site_id!r}; "
                                    "the Kafka key must be the site_id")
