"""Forward the outbox to Kafka: idempotent producer (acks=all), delete only what Kafka acked.

While deliveries succeed many records are in flight at once; when they stop (Kafka or the
link is away) the window shrinks to a few probes, so that when the link returns the outbox
is read again by priority and critical records go first rather than queueing behind a long
backlog inside the producer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from riskstream.config.schema import KafkaSettings
from riskstream.edge import metrics
from riskstream.edge.outbox import CRITICAL_PRIORITY, Outbox, Pending
from riskstream.events import MAX_BATCH_EVENTS, Heartbeat, frame_event_batch
from riskstream.kafka_preflight import login_refused
from riskstream.kafka_settings import polled_client_config, role_password_env

log = logging.getLogger(__name__)

WINDOW_HEALTHY = 5000
WINDOW_PROBING = 100


class Forwarder(threading.Thread):
    def __init__(self, outbox: Outbox, settings: KafkaSettings, client_id: str = "riskstream-edge",
                 batch: int = 1000) -> None:
        """Records of ``settings.topics.events`` are packed into per-site batches."""
        super().__init__(daemon=True, name="outbox-forwarder")
        conf: dict[str, Any] = {
            **polled_client_config(settings, "edge"), "client.id": client_id,
            "enable.idempotence": True, "acks": "all", "linger.ms": 5,
            "compression.type": "lz4",
            # Same key -> partition mapping as Faust/aiokafka (murmur2): a site's records of
            # every topic share one partition number.
            "partitioner": "murmur2_random",
            "message.timeout.ms": 30_000,
            "error_cb": self._on_error,
        }
        self._refused: str | None = None  # the broker's reason, while it refuses our login
        self._password_env = settings.sasl_password_env or role_password_env("edge")
        self._producer = Producer(conf)
        self._kafka_at = settings.bootstrap  # not _bootstrap: Thread has one
        self._outbox = outbox
        self._batch = batch
        self._batch_topics = {settings.topics.events}
        self._in_flight: set[int] = set()
        self._acked: list[int] = []
        self._last_ack = time.monotonic()
        self._depth_at = 0.0
        self._cursor = 0  # highest seq handed to the producer by the in-order scan
        self._halt = threading.Event()
        self._ack_error_logged = 0.0
        self.delivered = 0

    def run(self) -> None:
        self._check_reachable()
        while not self._halt.is_set():
            self._pump(0.05)

    def _on_error(self, err: KafkaError) -> None:
        if login_refused(err):
            self._refused = err.str()

    def _check_reachable(self, timeout: float = 10.0) -> None:
        """Say at start whether Kafka answers: the edge works without it (the outbox fills),
        but an operator must know it is not connected, and why: a broker that refuses the
        edge's login read as one that was down."""
        try:
            self._producer.list_topics(timeout=timeout)
            metrics.KAFKA_REACHABLE.set(1)
        except KafkaException as exc:
            metrics.KAFKA_REACHABLE.set(0)
            self._producer.poll(0.1)  # serves error_cb: was the login refused?
            if self._refused is not None:
                log.error("Kafka at %s refused the edge's login (%s): events wait in the "
                          "outbox until it takes it; check %s", self._kafka_at, self._refused,
                          self._password_env)
                return
            log.error("Kafka at %s does not answer (%s): events wait in the outbox until it "
                      "does; check kafka.bootstrap / RS_KAFKA_BOOTSTRAP and the credentials "
                      "(riskstream services env)", self._kafka_at, exc.args[0] if exc.args else exc)

    def _take(self, room: int, healthy: bool) -> list[Pending]:
        """What to send next. Probing (link down): by priority, a few at a time. Healthy:
        critical records first, then everything in arrival order from a cursor (cheap)."""
        limit = min(room, self._batch)
        if not healthy:
            self._cursor = 0  # rescan from the start once the link is back
            return self._outbox.take(limit, exclude=self._in_flight)
        urgent = [r for r in self._outbox.take_after(0, limit, CRITICAL_PRIORITY)
                  if r.seq not in self._in_flight]
        rest = self._outbox.take_after(self._cursor, limit - len(urgent))
        if rest:
            self._cursor = rest[-1].seq
        chosen = {r.seq for r in urgent}  # a critical record may turn up in both scans
        return urgent + [r for r in rest if r.seq not in self._in_flight and r.seq not in chosen]

    def _pump(self, wait: float) -> None:
        healthy = time.monotonic() - self._last_ack < 2.0
        window = WINDOW_HEALTHY if healthy else WINDOW_PROBING
        room = window - len(self._in_flight)
        sent = 0
        if room > 0:
            taken = self._take(room, healthy)
            for topic, key, seqs, value in self._records(taken):
                self._in_flight.update(seqs)
                try:
                    self._producer.produce(topic, key=key, value=value,
                                           on_delivery=self._callback(seqs))
                except BufferError:
                    self._in_flight.difference_update(seqs)
                    break
                sent += 1
        self._producer.poll(0 if sent else wait)
        self._commit_acks()
        if time.monotonic() - self._depth_at > 1.0:
            self._depth_at = time.monotonic()
            metrics.OUTBOX_DEPTH.set(self._outbox.depth())

    def _records(self, taken: list[Pending]) -> list[tuple[str, bytes, list[int], bytes]]:
        return pack(taken, self._batch_topics)

    def report_now(self, topic: str, beat: Heartbeat) -> None:
        """Send a heartbeat past the outbox (best effort): for news about the outbox itself."""
        try:
            self._producer.produce(topic, key=beat.site_id.encode(), value=beat.to_json())
        except (BufferError, ValueError) as exc:
            log.warning("could not report the edge's health on %s: %s", topic, exc)

    def _callback(self, seqs: list[int]) -> Any:
        def delivered(err: KafkaError | None, msg: Message) -> None:
            topic = msg.topic() or "?"
            if err is None:
                self._acked.extend(seqs)
                self._last_ack = time.monotonic()
                metrics.KAFKA_REACHABLE.set(1)
                metrics.DELIVERED.labels(topic).inc(len(seqs))
            else:  # stays in the outbox; taken again later
                self._in_flight.difference_update(seqs)
                self._cursor = 0
                metrics.DELIVERY_ERRORS.labels(topic).inc()
                log.warning("kafka delivery failed topic=%s error=%s; will retry", topic, err)
        return delivered

    def _commit_acks(self) -> None:
        if self._acked:
            acked, self._acked = self._acked, []
            try:
                self._outbox.ack(acked)
            except sqlite3.Error as exc:  # disk full: they are in Kafka; forget them later
                self._acked = acked + self._acked
                if time.monotonic() - self._ack_error_logged > 5.0:
                    self._ack_error_logged = time.monotonic()
                    log.error("outbox: cannot delete %d records Kafka acknowledged (%s); "
                              "retrying", len(acked), exc)
                return
            self._in_flight.difference_update(acked)
            self.delivered += len(acked)

    def stop(self, flush_timeout: float = 30.0) -> int:
        """Stop forwarding; wait up to ``flush_timeout`` for what is in flight. Returns the
        number of records still in the outbox (they are sent after the next start)."""
        self._halt.set()
        self.join(10)
        deadline = time.monotonic() + flush_timeout
        while self._in_flight and time.monotonic() < deadline:
            self._producer.poll(0.1)
            self._commit_acks()
        self._producer.flush(max(0.0, deadline - time.monotonic()))
        self._commit_acks()
        return self._outbox.depth()


def pack(taken: list[Pending], batch_topics: set[str]) -> list[tuple[str, bytes, list[int], bytes]]:
    """Kafka records (topic, key, outbox seqs, value) for ``taken``: one site's waiting events
    travel as one batch record (the per-record cost downstream is paid once per batch);
    anything else one by one. Pure."""
    groups: dict[tuple[str, bytes], list[Pending]] = {}
    for rec in taken:  # priority order: a group goes where its most urgent record was
        groups.setdefault((rec.topic, rec.key), []).append(rec)
    out = []
    for (topic, key), recs in groups.items():
        size = MAX_BATCH_EVENTS if topic in batch_topics else 1
        for i in range(0, len(recs), size):
            chunk = recs[i:i + size]
            value = chunk[0].value if len(chunk) == 1 else frame_event_batch(
                [r.value for r in chunk])
            out.append((topic, key, [r.seq for r in chunk], value))
    return out
