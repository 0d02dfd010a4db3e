"""The edge agent: a thin shell that wires MQTT -> SensorPipeline -> durable outbox -> Kafka.

All decisions live in :mod:`riskstream.sensors.pipeline`. A message's events (and the sensor's
new alarm level) are committed to the outbox before the MQTT message is acknowledged, so a
crash loses nothing: the broker re-delivers what was not acknowledged (persistent session,
QoS 1) and the forwarder sends what Kafka has not acknowledged. Commits are grouped (every
few milliseconds or hundreds of messages) and the acknowledgements follow each commit: one
transaction per message would cap the edge at a few thousand events/s. The open reading
windows of the sensors a commit touches are saved in it too, so their readings survive a crash,
and so are the deliveries' packet ids (:mod:`riskstream.edge.redelivery`): what the broker
re-sends because a crash beat the acknowledgements is not processed twice.

When the outbox cannot be written (disk full, I/O error) nothing is acknowledged: what is
pending is kept and retried with a growing delay, the broker holds the rest (persistent
session), the failure is counted, shown by ``riskstream_edge_outbox_writable`` and reported on
rs.health straight from the producer; the first commit that succeeds recovers.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType

from riskstream.config.schema import Config
from riskstream.deadletter import DeadLetter
from riskstream.edge import metrics
from riskstream.edge.camera.service import CameraService
from riskstream.edge.forwarder import Forwarder
from riskstream.edge.mqtt_source import MqttSource
from riskstream.edge.outbox import Outbox, OutboxRecord
from riskstream.edge.redelivery import PREFIX as REDELIVERY_PREFIX
from riskstream.edge.redelivery import Redeliveries
from riskstream.events import (
    Event,
    EventError,
    Evidence,
    Heartbeat,
    ReadingSummary,
    Severity,
    utc_now,
)
from riskstream.metrics_http import serve_metrics
from riskstream.sensors.downsample import Downsampler
from riskstream.sensors.pipeline import Outcome, SensorPipeline

log = logging.getLogger(__name__)
LEVEL_PREFIX = "level:"
WINDOW_PREFIX = "window:"  # a sensor's open reading windows (Downsampler.snapshot)
RETRY_MAX_S = 5.0  # longest wait between attempts to write an unwritable outbox
GROUP_COMMIT_SECONDS = 0.005
GROUP_COMMIT_MESSAGES = 500


class EdgeAgent:
    def __init__(self, cfg: Config, state_dir: Path,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._cfg = cfg
        self._clock = clock
        self._topics = cfg.kafka.topics
        self.pipeline = SensorPipeline(cfg)
        self.outbox = Outbox(state_dir / "outbox.sqlite3", int(cfg.edge.outbox_max_mb * 2**20))
        saved = self.outbox.state(LEVEL_PREFIX)
        self.pipeline.restore_levels({k[len(LEVEL_PREFIX):]: int(v) for k, v in saved.items()})
        self.forwarder = Forwarder(self.outbox, cfg.kafka)
        self.downsampler = Downsampler(cfg.sensors)
        self.redeliveries = Redeliveries(self.outbox.state(REDELIVERY_PREFIX))
        for key, text in self.outbox.state(WINDOW_PREFIX).items():
            self.downsampler.restore(key[len(WINDOW_PREFIX):], text)
        self.outbox_failing_since: float | None = None
        self._retry_at = 0.0
        self._retry_s = GROUP_COMMIT_SECONDS
        self._sites = {s.id: s.site for s in cfg.sensors}
        self._heard: dict[str, int] = {}  # readings per device since its last heartbeat
        self._lock = threading.Lock()  # downsampler and heartbeat counts: MQTT and main thread
        self.source = MqttSource(cfg.mqtt, cfg.mqtt.subscriptions or self.pipeline.topics, self.handle)
        self._stop = threading.Event()
        self._last_beat = 0
        self._pending_lock = threading.Lock()
        self._pending_records: list[OutboxRecord] = []
        self._pending_state: dict[str, str] = {}
        self._pending_acks: list[tuple[int, int]] = []
        self._wake = threading.Event()
        self.cameras = (CameraService(cfg, state_dir, self.submit_events, self.submit_evidence)
                        if cfg.cameras else None)

    def submit_events(self, events: list[Event]) -> None:
        """Queue events from another source (the cameras) for the next group commit."""
        records = []
        for event in events:
            metrics.events_of(event.kind, event.severity.value).inc()
            log.info("event kind=%s source=%s zone=%s phase=%s score=%.2f", event.kind, event.source_id,
                     event.zone or "-", event.attrs.get("phase", "-"), event.score)
            records.append(OutboxRecord(self._topics.events, event.site_id.encode(), event.to_json(),
                                        event.severity.rank))
            evidence = self._evidence_record(event)
            if evidence is not None:
                records.append(evidence)
        with self._pending_lock:
            self._pending_records += records
        self._wake.set()

    def submit_evidence(self, items: list[Evidence]) -> None:
        """Queue clips (the cameras) for the next group commit, on rs.evidence. They rank as
        major records: a full outbox drops info and warning records before them."""
        records = [OutboxRecord(self._topics.evidence, e.site_id.encode(), e.to_json(),
                                Severity.MAJOR.rank) for e in items]
        with self._pending_lock:
            self._pending_records += records
        self._wake.set()

    def _evidence_record(self, event: Event) -> OutboxRecord | None:
        """The event's snapshot for the center (rs.evidence), committed with the event: the
        center cannot reach into the plant network, so the edge sends it."""
        if not event.snapshot:
            return None
        try:
            data = Path(event.snapshot).read_bytes()
            evidence = Evidence.of(event.event_id, event.site_id, event.source_id, event.ts, data)
        except OSError as exc:
            metrics.EVIDENCE.labels("missing").inc()
            log.error("snapshot of event %s not sent: %s", event.event_id, exc)
            return None
        except EventError as exc:
            metrics.EVIDENCE.labels("invalid").inc()
            log.error("snapshot of event %s not sent: %s", event.event_id, exc)
            return None
        metrics.EVIDENCE.labels("queued").inc()
        return OutboxRecord(self._topics.evidence, event.site_id.encode(), evidence.to_json(),
                            event.severity.rank)

    def handle(self, topic: str, payload: bytes, mid: int = 0, qos: int = 0,
               dup: bool = False) -> None:
        """Process one message; what it produced is committed by the next :meth:`commit`."""
        state: dict[str, str] = {}
        if qos > 0:
            if self.redeliveries.is_redelivery(mid, dup, topic, payload):
                self._ack_redelivery(mid, qos)
                return
            key, seen = self.redeliveries.record(mid, topic, payload)
            state[key] = seen
        try:
            outcome = self.pipeline.process(topic, payload, self._clock())
        except Exception as exc:  # a bug: the message becomes a dead letter, the agent goes on
            log.exception("processing a message on %s failed", topic[:200])
            outcome = Outcome(dead_letter=DeadLetter(
                "edge.internal", f"internal error: {exc!r}"[:500], f"mqtt:{topic[:200]}", payload,
                "crash"))
        records: list[OutboxRecord] = []
        if outcome.dead_letter is not None:
            dl = outcome.dead_letter
            metrics.DEAD_LETTERS.labels(dl.error_type).inc()
            log.warning("dead letter stage=%s reason=%s", dl.stage, dl.reason)
            records.append(OutboxRecord(self._topics.dlq, dl.key, dl.to_json()))
        for event in outcome.events:
            metrics.events_of(event.kind, event.severity.value).inc()
            # DEBUG: at thousands of events/s a line each costs more than the detection;
            # riskstream_edge_events_total counts them.
            log.debug("event kind=%s site=%s source=%s severity=%s value=%s", event.kind,
                      event.site_id, event.source_id, event.severity.value, event.value)
            records.append(OutboxRecord(self._topics.events, event.site_id.encode(),
                                        event.to_json(), event.severity.rank))
            state[LEVEL_PREFIX + event.source_id] = str(self.pipeline.level(event.source_id))
        # The downsampler's change and its snapshot reach the pending commit in one step
        # (tick() flushes windows from another thread): the newest snapshot is what commits.
        with self._lock:
            if outcome.reading is not None:
                reading = outcome.reading
                metrics.readings_of(reading.sensor_id).inc()
                self._heard[reading.sensor_id] = self._heard.get(reading.sensor_id, 0) + 1
                if self._cfg.edge.downsample:
                    records += [self._summary_record(s) for s in self.downsampler.add(reading)]
                    state[WINDOW_PREFIX + reading.sensor_id] = self.downsampler.snapshot(
                        reading.sensor_id)
            with self._pending_lock:
                self._pending_records += records
                self._pending_state.update(state)
                self._pending_acks.append((mid, qos))
                if len(self._pending_acks) >= GROUP_COMMIT_MESSAGES:
                    self._wake.set()

    def _ack_redelivery(self, mid: int, qos: int) -> None:
        """A re-sent message whose records the outbox holds (or the pending commit, after a
        reconnect): acknowledged after the next commit, not processed twice."""
        metrics.MQTT_REDELIVERED.inc()
        log.debug("mqtt message %d re-sent by the broker is already in the outbox", mid)
        with self._pending_lock:
            self._pending_acks.append((mid, qos))

    def commit(self) -> int:
        """Make pending records durable in one transaction, then acknowledge their messages.
        Returns how many messages were acknowledged (0 while the outbox cannot be written)."""
        if time.monotonic() < self._retry_at:
            return 0
        with self._pending_lock:
            records, self._pending_records = self._pending_records, []
            state, self._pending_state = self._pending_state, {}
            acks, self._pending_acks = self._pending_acks, []
        if records or state:
            try:
                dropped = self.outbox.put(records, state).dropped
            except sqlite3.Error as exc:
                self._requeue(records, state, acks)
                self._outbox_failed(exc)
                return 0
            self._outbox_recovered()
            if dropped:
                metrics.OUTBOX_DROPPED.inc(dropped)
                log.error("outbox over its %.0f MB budget: dropped %d low-severity records",
                          self._cfg.edge.outbox_max_mb, dropped)
        for mid, qos in acks:
            self.source.ack(mid, qos)
        return len(acks)

    def _requeue(self, records: list[OutboxRecord], state: dict[str, str],
                 acks: list[tuple[int, int]]) -> None:
        """Put what failed back in front of what arrived meanwhile (newer state wins)."""
        with self._pending_lock:
            self._pending_records = records + self._pending_records
            self._pending_state = {**state, **self._pending_state}
            self._pending_acks = acks + self._pending_acks

    def _outbox_failed(self, exc: Exception) -> None:
        metrics.OUTBOX_WRITE_ERRORS.inc()
        metrics.OUTBOX_WRITABLE.set(0)
        first = self.outbox_failing_since is None
        if first:
            self.outbox_failing_since = time.monotonic()
        self._retry_s = min(RETRY_MAX_S, self._retry_s * 2)
        self._retry_at = time.monotonic() + self._retry_s
        if first or self._retry_s >= RETRY_MAX_S:
            log.error("outbox %s cannot be written (%s): not acknowledging MQTT messages, the "
                      "broker keeps them; retrying every %.1f s", self.outbox.path, exc,
                      self._retry_s)
        if first:
            self.forwarder.report_now(self._topics.health, self._health_of_edge(False, str(exc)))

    def _outbox_recovered(self) -> None:
        if self.outbox_failing_since is None:
            return
        down = time.monotonic() - self.outbox_failing_since
        self.outbox_failing_since, self._retry_s, self._retry_at = None, GROUP_COMMIT_SECONDS, 0.0
        metrics.OUTBOX_WRITABLE.set(1)
        log.warning("outbox writable again after %.1f s; acknowledging MQTT messages", down)
        self.forwarder.report_now(self._topics.health, self._health_of_edge(True, ""))

    def _health_of_edge(self, writable: bool, error: str) -> Heartbeat:
        site = self._cfg.sites[0].id if self._cfg.sites else "unknown"
        return Heartbeat(site_id=site, source_id=f"edge:{self._cfg.mqtt.client_id}",
                         ts=self._clock(), attrs={"outbox_writable": writable,
                                                  "outbox_error": error[:300]})

    def _committer(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(GROUP_COMMIT_SECONDS)
            self._wake.clear()
            self.commit()

    def _summary_record(self, summary: ReadingSummary) -> OutboxRecord:
        return OutboxRecord(self._topics.readings, summary.site_id.encode(), summary.to_json())

    def tick(self, now: datetime) -> None:
        """Close overdue reading windows; send heartbeats of devices heard from."""
        now_ms = int(now.timestamp() * 1000)
        with self._lock:
            summaries = self.downsampler.flush(now_ms)
            if summaries:  # closed windows and their snapshots go out with the next commit
                state = {WINDOW_PREFIX + s.source_id: self.downsampler.snapshot(s.source_id)
                         for s in summaries}
                with self._pending_lock:
                    self._pending_records += [self._summary_record(s) for s in summaries]
                    self._pending_state.update(state)
            beat = now_ms - self._last_beat >= self._cfg.edge.heartbeat_s * 1000
            heard = self._heard if beat else {}
            if beat:
                self._heard, self._last_beat = {}, now_ms
        records: list[OutboxRecord] = []
        silent = self.pipeline.silence_events(now)
        if silent:
            self.submit_events(silent)
        depth = self.outbox.depth() if (heard or beat) and self.outbox_failing_since is None else 0
        if self.cameras is not None:
            if beat:
                records += [OutboxRecord(self._topics.health, hb.site_id.encode(), hb.to_json())
                            for hb in self.cameras.heartbeats(now, depth)]
            else:
                self.cameras.sync_metrics()
        if beat:  # the edge box itself: its outbox, for the console's device page
            edge = self._health_of_edge(self.outbox_failing_since is None, "")
            edge.attrs.update({"device": "edge", "outbox_depth": depth})
            records.append(OutboxRecord(self._topics.health, edge.site_id.encode(), edge.to_json()))
        for device, count in heard.items():
            hb = Heartbeat(site_id=self._sites[device], source_id=device, ts=now,
                           attrs={"readings": count, "outbox_depth": depth,
                                  "late_readings": self.downsampler.late,
                                  "late_skipped_by_detectors": self.pipeline.chain.late})
            records.append(OutboxRecord(self._topics.health, hb.site_id.encode(), hb.to_json()))
        if records:
            with self._pending_lock:  # through the commit, which copes with a full disk
                self._pending_records += records
            self._wake.set()

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then flush what Kafka has not acknowledged yet."""
        serve_metrics(self._cfg.edge.metrics_port, "edge")
        self.forwarder.start()
        committer = threading.Thread(target=self._committer, name="outbox-committer", daemon=True)
        committer.start()
        self.source.start()
        if self.cameras is not None:
            self.cameras.start()
        log.info("edge agent running sensors=%d kafka=%s outbox=%d waiting",
                 len(self.pipeline.topics), self._cfg.kafka.bootstrap, self.outbox.depth())
        self._last_beat = int(self._clock().timestamp() * 1000)
        try:
            while not self._stop.wait(0.5):
                self.tick(self._clock())
        finally:
            if self.cameras is not None:
                self.cameras.stop()  # their last incidents end and are queued for the commit below
            committer.join(5)
            self.commit()  # acknowledged while still connected; later arrivals are re-sent
            self.source.stop()
            left = self.forwarder.stop(30)
            self.outbox.close()
            log.info("edge agent stopped; %d records wait in the outbox for the next start", left)


def run_edge(cfg: Config, state_dir: Path) -> None:
    agent = EdgeAgent(cfg, state_dir)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run()
