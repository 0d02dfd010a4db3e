"""The correlator's at-least-once core: plain code behind a store and an outlet, no Faust.

One call per batch of Kafka records (``rs.events``, ``rs.alert-actions``, ``rs.health``):

1. A record without a key goes to the DLQ; a record on a partition other than its site's
   (a third-party producer's partitioner) is **forwarded** to the site's partition, where the
   site's state lives, instead of being applied here (applying it here would move the site's
   replay watermark on the wrong partition).
2. Records are grouped by site. Each site's state is read once, every record is applied in
   its own error boundary through :class:`SiteProcessor` (a replay is recognised by the
   watermark per topic partition, a re-send by its id), and what fails becomes a dead letter
   with its reason.
3. Everything the batch produced — alert revisions, dead letters, forwarded records — is
   sent, and its delivery awaited, **before** anything is stored: a stored state never
   remembers an alert that is not in ``rs.alerts``.
4. Then, per site, the recent-id segments (bounded in bytes) and then the state are written.

Steps 3 and 4 are retried with backoff while they fail (the broker is away, the producer
does not know a topic's partitions yet); after ``give_up_s`` the core raises
:class:`CorrelatorStuck` and the adapter must stop the worker *without* acknowledging the
batch. The batch is never acknowledged past a record whose outcome was not delivered.

A site's clock between events advances with wall time only while its partition is caught up
(``caught_up``): while a backlog waits (after a restart, say), ticks must not expire windows
that events still in the backlog would have extended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from aiokafka.partitioner import murmur2

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
from riskstream.streams.correlate import ACTION_ID_PREFIX, Result, SiteProcessor, SiteState
from riskstream.streams.dedup import is_segment_key, mark_applied, replayed, site_of
from riskstream.streams.watchdog import mark_activity

log = logging.getLogger(__name__)

MAX_STATE_BYTES = 512 * 1024  # a state record must stay under Kafka's 1 MB record limit
Decode = Callable[[str, bytes | None], list[tuple[bytes, Event | EventError]]]


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives ``key``."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed Kafka record, as the core needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0

    @property
    def source(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to produce; ``partition`` None means the key's (murmur2) partition."""

    topic: str
    key: bytes
    value: bytes
    partition: int | None = None


class SiteStore(Protocol):
    """Per-site state and recent-id segments (a Faust table, or a dict in tests)."""

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, site: str, key: bytes, value: bytes | None) -> None:
        """Write (None: delete) ``key``, which belongs to ``site`` (so to its partition)."""

    def items(self, partitions: Collection[int]) -> Iterable[tuple[bytes, bytes]]:
        """Every key (states and segments) of the sites on ``partitions``."""

    async def flush(self) -> None:
        """Return once every write so far is durable (delivered to the changelog)."""


class Outlet(Protocol):
    async def send(self, messages: Sequence[Outgoing]) -> None:
        """Produce all ``messages`` and return once every one is acknowledged; raise if not."""


class CorrelatorStuck(RuntimeError):
    """Delivering or storing a batch kept failing: stop without acknowledging it."""


@dataclass
class BatchReport:
    applied: int = 0
    replayed: int = 0
    forwarded: int = 0
    dead_letters: int = 0
    alerts: int = 0


@dataclass
class _SiteRun:
    site: str
    raw: bytes | None
    state: SiteState | None
    alerts: list[Alert] = field(default_factory=list)


def load_state(raw: bytes | None, site: str = "?") -> SiteState | None:
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


def dump_state(state: SiteState) -> bytes:
    return orjson.dumps(state)


class CorrelatorCore:
    def __init__(self, cfg: Config, store: SiteStore, outlet: Outlet, *,
                 clock: Callable[[], float] = time.time, decode: Decode | None = None,
                 give_up_s: float = 120.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 ready: Callable[[], bool] = lambda: True,
                 ready_state: Callable[[], str] = lambda: "") -> None:
        self.topics = cfg.kafka.topics
        self.partitions = cfg.kafka.partitions
        self.processor = SiteProcessor(cfg)
        self.recent = self.processor.recent
        self.store, self.outlet = store, outlet
        self._clock = clock
        self._decode: Decode = decode or (lambda _source, value: decode_event_record(value))
        self._give_up_s = give_up_s
        self._sleep = sleep
        self._loaded_for: frozenset[int] | None = None
        self._lock = asyncio.Lock()  # the timer and the agent must not interleave on a site
        # False while partitions move (a rebalance and the tables' recovery): the store then
        # holds old or half-recovered states, and anything derived from them is stale.
        self._ready = ready
        self._ready_state = ready_state  # what ``ready`` looks at, for the log
        self._closing = False
        self.dlq_decode_errors = True  # False when a store agent in this process DLQs them

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- batches ----------------------------------------------------------------------

    async def on_batch(self, records: Sequence[Record],
                       actives: Collection[int] | Callable[[], Collection[int]]) -> BatchReport:
        """Correlate one batch. ``actives`` (the rs.events partitions owned, or a function
        giving them) is read once partitions are settled: records of a partition that moved
        away meanwhile are left to its new owner (their offsets are no longer ours to commit)."""
        while True:
            await self._until_ready()
            async with self._lock:
                if not self.settled():  # a rebalance began while we waited for the lock
                    continue
                owned = set(actives() if callable(actives) else actives)
                kept = [r for r in records if r.partition in owned]
                if len(kept) < len(records):
                    metrics.SKIPPED.labels("partition moved to another worker").inc(
                        len(records) - len(kept))
                    log.info("%d records of partitions now owned by another worker left to it",
                             len(records) - len(kept))
                return await self._on_batch(kept, owned)

    async def _until_ready(self) -> None:
        # No mark_activity here: a wait that never ends must be seen by the stall watchdog.
        waited = 0.0
        while not self.settled():
            await self._sleep(0.05)
            waited += 0.05
            if abs(waited - 10.0) < 0.025:
                log.warning("a batch has waited 10 s for partitions to settle (%s)",
                            self.why_unsettled())

    def settled(self) -> bool:
        return not self._closing and self._ready()

    def why_unsettled(self) -> str:
        return f"stopping={self._closing} {self._ready_state()}".strip()

    async def close(self) -> None:
        """The worker is stopping: start nothing more, and wait for the batch or tick in
        flight, so its state is in the changelog before the partitions go to another worker
        (Faust leaves the group without waiting for our batch)."""
        self._closing = True
        await self.quiesce()

    async def quiesce(self) -> None:
        """Partitions are about to move: wait for the batch or tick in flight to finish (its
        state must reach the changelog before recovery reads it), and rebuild the recent ids
        once the new assignment is recovered."""
        async with self._lock:
            self._loaded_for = None

    async def _on_batch(self, records: Sequence[Record], actives: Collection[int]) -> BatchReport:
        self._sync_recent(actives)
        report = BatchReport()
        out: list[Outgoing] = []
        by_site: dict[str, list[Record]] = {}
        for rec in records:
            site = rec.key.decode("utf-8", "replace") if rec.key else ""
            if not site:
                out.append(self._dead(DeadLetter(
                    "worker.correlate", "record has no key: key every record with its site_id",
                    rec.source, rec.value or b"")))
                continue
            home = partition_of(site, self.partitions)
            if rec.partition != home:
                # the site's state lives on its own partition: send the record there
                if rec.value is None:
                    out.append(self._dead(DeadLetter("worker.correlate", "empty record (tombstone)",
                                                     rec.source, b"", site_id=site)))
                else:
                    out.append(Outgoing(rec.topic, rec.key or b"", rec.value, home))
                    metrics.FORWARDED.labels(rec.topic).inc()
                    report.forwarded += 1
                continue
            by_site.setdefault(site, []).append(rec)
        runs = [self._apply_site(site, recs, out, report) for site, recs in by_site.items()]
        for run in runs:
            out += [Outgoing(self.topics.alerts, run.site.encode(), a.to_json()) for a in run.alerts]
            report.alerts += len(run.alerts)
        report.dead_letters = sum(1 for o in out if o.topic == self.topics.dlq)
        await self._until_done("publishing the batch's alerts and dead letters",
                               lambda: self.outlet.send(out))
        for run in runs:
            for a in run.alerts:
                metrics.ALERTS.labels(a.status.value).inc()
        writes = [w for run in runs for w in self._site_writes(run)]
        await self._until_done("storing the correlation state", lambda: self._write(writes))
        return report

    def _apply_site(self, site: str, records: list[Record], out: list[Outgoing],
                    report: BatchReport) -> _SiteRun:
        raw = self.store.get(site.encode())
        run = _SiteRun(site, raw, load_state(raw, site))
        now_ms = self.now_ms()
        known = self.processor.registry.site(site) is not None
        for n, rec in enumerate(records):
            if n % 200 == 0:
                mark_activity()  # a long batch is work in progress, not a stalled consumer
            if (replayed(run.state, rec.topic, rec.partition, rec.offset)
                    and self._is_replay(site, rec, now_ms)):
                metrics.REPLAYED.inc()
                report.replayed += 1
                continue
            if not known:
                out.append(self._dead(DeadLetter(
                    "worker.correlate", f"site_id: site {site[:64]!r} is not in the deployment "
                    "config; its records are not correlated", rec.source, rec.value or b"",
                    "unknown_site", site)))
            else:
                self._apply_record(run, rec, now_ms, out)
                report.applied += 1
            run.state = mark_applied(run.state or self.processor.new_state(site), rec.topic,
                                     rec.partition, rec.offset)
        return run

    def _is_replay(self, site: str, rec: Record, now_ms: int) -> bool:
        """A record at or below the site's watermark: a replay, or one Faust delivered out of
        order (after a rebalance it hands over a record past the committed offset before the
        ones below it: seen on the real stack, 2-15 events then missed their alerts). A record
        is a replay when the ids it carries are known; beyond the id window (older records,
        heartbeats, undecodable ones, a site whose id index is near its cap) the watermark
        decides, as before."""
        recent = self.processor.recent
        if (rec.timestamp_ms < now_ms - recent.window_ms or rec.topic == self.topics.health
                or recent.size(site) >= recent.max_ids * 0.9):  # ids may have been capped
            return True
        try:
            if rec.topic == self.topics.alert_actions:
                action = AlertAction.from_json(rec.value or b"")
                return recent.seen(site, ACTION_ID_PREFIX + action.action_id)
            items = decode_event_record(rec.value)  # not the shared decoder: that is per read
        except EventError:
            return True
        return all(recent.seen(site, e.event_id) for _, e in items if isinstance(e, Event))

    def _apply_record(self, run: _SiteRun, rec: Record, now_ms: int, out: list[Outgoing]) -> None:
        is_event = rec.topic == self.topics.events
        # one record may carry a batch of the site's events: each in its own boundary
        items: list[tuple[bytes, Any]] = (self._decode(rec.source, rec.value) if is_event
                                          else [(rec.value or b"", None)])
        for payload, item in items:
            try:
                if isinstance(item, EventError):
                    raise item
                run.state, result = (self._apply_event(run, item, now_ms) if is_event
                                     else self._apply_other(run, rec, now_ms))
            except EventError as exc:
                if is_event and not self.dlq_decode_errors:
                    metrics.SKIPPED.labels("undecodable event").inc()  # the store DLQs it
                    continue
                out.append(self._dead(DeadLetter("worker.correlate", str(exc), rec.source,
                                                 payload, site_id=run.site)))
                continue
            except Exception as exc:  # a bug must cost one record, not the worker
                log.exception("correlating %s failed", rec.source)
                out.append(self._dead(DeadLetter("worker.correlate", f"internal error: {exc!r}",
                                                 rec.source, payload_of(payload, item), "crash",
                                                 run.site)))
                continue
            if result.rejected:
                out.append(self._dead(DeadLetter("worker.action", result.rejected, rec.source,
                                                 payload, "rejected", run.site)))
            run.alerts += result.alerts

    def _apply_event(self, run: _SiteRun, event: Event, now_ms: int) -> tuple[SiteState, Result]:
        _check_key(run.site, event.site_id)
        metrics.EVENTS_CORRELATED.inc()
        state, result = self.processor.on_event(run.state, event, now_ms)
        if result.duplicate:
            metrics.DUPLICATES.inc()
        return state, result

    def _apply_other(self, run: _SiteRun, rec: Record, now_ms: int) -> tuple[SiteState, Result]:
        if rec.topic == self.topics.alert_actions:
            action = AlertAction.from_json(rec.value or b"")
            _check_key(run.site, action.site_id)
            state, result = self.processor.on_action(run.state, action, now_ms)
            if result.duplicate:
                metrics.DUPLICATES.inc()
            return state, result
        beat = Heartbeat.from_json(rec.value or b"")
        _check_key(run.site, beat.site_id)
        return self.processor.on_heartbeat(run.state, beat, now_ms)

    def _dead(self, dl: DeadLetter) -> Outgoing:
        metrics.DEAD_LETTERS.labels(dl.stage).inc()
        log.warning("dead letter stage=%s source=%s reason=%s", dl.stage, dl.source, dl.reason)
        return Outgoing(self.topics.dlq, dl.key, dl.to_json())

    # -- storing ----------------------------------------------------------------------

    def _site_writes(self, run: _SiteRun) -> list[tuple[str, bytes, bytes | None]]:
        """The segments first, then the state: in one changelog partition, so a stored
        state implies its segments are stored too (see :mod:`riskstream.streams.dedup`)."""
        if run.state is None:
            self.recent.discard_open(run.site)
            return []
        state = self._bounded(run.state)
        writes: list[tuple[str, bytes, bytes | None]] = [
            (run.site, key, value)
            for key, value in self.recent.seal(run.site, state.get("applied", {}))]
        new = dump_state(state)
        if new != run.raw:
            writes.append((run.site, run.site.encode(), new))
        return writes

    def _bounded(self, state: SiteState) -> SiteState:
        """Keep a state record within :data:`MAX_STATE_BYTES`: the largest rule windows are
        dropped (loudly) before a record Kafka would refuse could stop the site for good."""
        size = len(dump_state(state))
        if size <= MAX_STATE_BYTES:
            return state
        rules = dict(state.get("rules", {}))
        while rules and size > MAX_STATE_BYTES:
            biggest = max(rules, key=lambda name: len(orjson.dumps(rules[name])))
            del rules[biggest]
            metrics.STATE_SHED.labels(biggest).inc()
            log.error("site %s: correlation state is %d bytes (limit %d); dropped the windows "
                      "of rule %s", state.get("site"), size, MAX_STATE_BYTES, biggest)
            state = {**state, "rules": rules}
            size = len(dump_state(state))
        return state

    async def _write(self, writes: list[tuple[str, bytes, bytes | None]]) -> None:
        while writes:  # what was written stays written when a later write fails and is retried
            site, key, value = writes[0]
            self.store.put(site, key, value)
            writes.pop(0)
        # Durable before the batch is acknowledged: a partition that moves to another worker
        # is recovered from the changelog, which must already hold the state the committed
        # offsets stand for (without this a rebalance cost 12-13 events their alerts).
        await self.store.flush()

    async def _until_done(self, what: str, attempt: Callable[[], Awaitable[None]]) -> None:
        deadline = self._clock() + self._give_up_s
        delay = 0.1
        while True:
            try:
                await attempt()
                return
            except Exception as exc:
                metrics.RETRIES.labels(what).inc()
                mark_activity()  # waiting for the broker is not a stalled consumer
                if self._clock() >= deadline:
                    raise CorrelatorStuck(f"{what} failed for {self._give_up_s:.0f} s: "
                                          f"{exc!r}") from exc
                log.warning("%s failed (%r); retrying, the batch is not acknowledged",
                                        what, exc)
                await self._sleep(delay)
                delay = min(delay * 2, 5.0)

    def _sync_recent(self, actives: Collection[int]) -> None:
        """After a (re)start or rebalance, rebuild the recent ids of the sites now owned."""
        wanted = frozenset(actives)
        if wanted == self._loaded_for:
            return
        segments = [(k, v) for k, v in self.store.items(wanted) if is_segment_key(k) and v]

        def applied(site: str) -> dict[str, int]:
            state = load_state(self.store.get(site.encode()), site)
            return dict((state or {}).get("applied", {}))

        loaded = self.recent.load(segments, applied)
        if loaded.unreadable:
            log.error("recent ids: %d unreadable segments skipped; re-sent events of their "
                      "batches will not be recognised", loaded.unreadable)
        for key in loaded.ahead:  # written by a batch whose state never was: never applied
            self.store.put(site_of(key), key, None)
        if loaded.ahead:
            log.warning("recent ids: %d segments of batches that were never stored dropped "
                        "(their records are being replayed)", len(loaded.ahead))
        self._loaded_for = wanted

    # -- ticks ------------------------------------------------------------------------

    async def on_tick(self, actives: Collection[int], caught_up: Callable[[int], bool]) -> int:
        """Expire windows and dedup segments, find silence, escalate; returns alerts sent."""
        if not actives or not self.settled():
            return 0
        async with self._lock:
            if not self.settled():  # partitions began to move while we waited
                return 0
            self._sync_recent(actives)
            now_ms = self.now_ms()
            writes: list[tuple[str, bytes, bytes | None]] = [
                (site_of(key), key, None) for key in self.recent.expire(now_ms)]
            runs: list[_SiteRun] = []
            for key, raw in list(self.store.items(actives)):
                if is_segment_key(key):
                    continue
                site = key.decode("utf-8", "replace")
                state = load_state(raw, site)
                if state is None:  # unreadable (logged once): drop it rather than every tick
                    writes.append((site, key, None))
                    continue
                live = caught_up(partition_of(site, self.partitions))
                new, result = self.processor.on_tick(state, now_ms, live=live)
                if new is None:  # nothing left but the replay watermark, which must stay
                    new = {"site": site, "applied": state.get("applied", {})}
                runs.append(_SiteRun(site, raw, new, result.alerts))
            alerts = [Outgoing(self.topics.alerts, r.site.encode(), a.to_json())
                      for r in runs for a in r.alerts]
            await self._until_done("publishing the tick's alerts",
                                   lambda: self.outlet.send(alerts))
            for run in runs:
                for a in run.alerts:
                    metrics.ALERTS.labels(a.status.value).inc()
                assert run.state is not None
                new_raw = dump_state(self._bounded(run.state))
                if new_raw != run.raw:
                    writes.append((run.site, run.site.encode(), new_raw))
            await self._until_done("storing the correlation state", lambda: self._write(writes))
            return len(alerts)


def _check_key(key: str, site_id: str) -> None:
    if key != site_id:
        raise EventError("site_id", f"record keyed {key!r} carries site_id {site_id!r}; "
                                    "the Kafka key must be the site_id")
