"""The console's Kafka side: one consumer thread fills the :class:`Board` from ``rs.alerts``
(from the beginning, so a restarted console rebuilds every open alarm), the devices' last
heartbeats from ``rs.health`` (from ``center.health_replay_s`` back) and learns from ``rs.dlq``
why an action was refused; one producer sends actions to ``rs.alert-actions``. A second
consumer (:class:`EvidenceFeed`, a committed group) keeps the snapshots of ``rs.evidence``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from riskstream.center.board import Board
from riskstream.center.devices import HeartbeatBook
from riskstream.center.evidence import EvidenceStore
from riskstream.command_center import refusal_of
from riskstream.config.schema import KafkaSettings
from riskstream.deadletter import DeadLetter
from riskstream.events import Alert, AlertAction, EventError, Heartbeat
from riskstream.kafka_acls import CENTER_GROUP_PREFIX

log = logging.getLogger(__name__)


class AlertFeed:
    def __init__(self, settings: KafkaSettings, board: Board,
                 health: HeartbeatBook | None = None, health_replay_s: float = 900.0) -> None:
        self.settings, self.board = settings, board
        self.health, self.health_replay_s = health, health_replay_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-feed", daemon=True)
        self.bad_records = 0
        self._producer: Any = None
        self._produce_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._producer is not None:
            self._producer.flush(5)

    def _consumer(self) -> tuple[Any, dict[tuple[str, int], int]]:
        from confluent_kafka import OFFSET_END, Consumer, TopicPartition

        from riskstream.kafka_settings import polled_client_config

        consumer = Consumer({**polled_client_config(self.settings, "center"),
                             "group.id": f"{CENTER_GROUP_PREFIX}console-{time.time_ns()}",
                             "enable.auto.commit": False})
        meta = consumer.list_topics(timeout=30)
        assign, ends = [], {}
        topics = self.settings.topics
        if self.health is not None and topics.health in meta.topics:
            since = int((time.time() - self.health_replay_s) * 1000)
            wanted = [TopicPartition(topics.health, p, since) for p in meta.topics[topics.health].partitions]
            assign += [tp if tp.offset >= 0 else TopicPartition(tp.topic, tp.partition, OFFSET_END)
                       for tp in consumer.offsets_for_times(wanted, timeout=10)]
        for topic in (topics.alerts, topics.dlq):
            for p in meta.topics[topic].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), 10)
                if topic == self.settings.topics.alerts:
                    assign.append(TopicPartition(topic, p, low))
                    if high > low:
                        ends[(topic, p)] = high
                else:  # refusals of actions sent from now on
                    assign.append(TopicPartition(topic, p, high))
        consumer.assign(assign)
        return consumer, ends

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                consumer, ends = self._consumer()
            except Exception as exc:  # broker not reachable yet: retry, say why
                log.warning("alert feed: cannot reach Kafka (%s); retrying", exc)
                self._stop.wait(2)
                continue
            self.board.ready = self.board.ready or not ends
            try:
                while not self._stop.is_set():
                    msg = consumer.poll(0.1)
                    if msg is None or msg.error():
                        continue
                    self._take(msg.topic(), msg.value() or b"")
                    key = (msg.topic(), msg.partition())
                    if key in ends and msg.offset() + 1 >= ends[key]:
                        del ends[key]
                        if not ends:
                            self.board.ready = True
                            log.info("alert feed caught up: %d alerts held", self.board.seq)
            finally:
                consumer.close()

    def _take(self, topic: str, value: bytes) -> None:
        if topic == self.settings.topics.health:
            try:
                if self.health is not None:
                    self.health.seen(Heartbeat.from_json(value))
            except EventError:
                self.bad_records += 1
            return
        if topic == self.settings.topics.alerts:
            try:
                self.board.apply(Alert.from_json(value))
            except EventError as exc:
                self.bad_records += 1
                log.warning("alert feed: skipped a bad rs.alerts record: %s", exc)
            return
        found = refusal_of(value)
        if found is not None:
            self.board.refused(*found)

    def send(self, action: AlertAction, timeout: float = 10.0) -> None:
        self.produce(self.settings.topics.alert_actions, action.site_id.encode(), action.to_json(),
                     timeout)

    def dead_letter(self, letter: DeadLetter, timeout: float = 10.0) -> None:
        self.produce(self.settings.topics.dlq, letter.key, letter.to_json(), timeout)

    def produce(self, topic: str, key: bytes, value: bytes, timeout: float = 10.0) -> None:
        """Send one record and wait for Kafka's acknowledgement (raises when none came)."""
        from confluent_kafka import Producer

        from riskstream.kafka_settings import polled_client_config

        with self._produce_lock:
            if self._producer is None:
                self._producer = Producer({**polled_client_config(self.settings, "center"),
                                           "enable.idempotence": True, "acks": "all",
                                           "partitioner": "murmur2_random"})
            self._producer.produce(topic, key=key, value=value)
            if self._producer.flush(timeout):
                raise RuntimeError(f"the record was not delivered to {topic} in time")


class EvidenceFeed:
    """Keeps what arrives on ``rs.evidence`` in the :class:`EvidenceStore`, in a committed
    consumer group: an offset is committed only once its record is stored or dead-lettered,
    so a crash, a full disk or an unreachable rs.dlq loses nothing (the record is retried)."""

    def __init__(self, settings: KafkaSettings, store: EvidenceStore,
                 dead_letter: Callable[[DeadLetter], None], purge_every_s: float = 3600.0) -> None:
        self.settings, self.store, self.dead_letter = settings, store, dead_letter
        self.purge_every_s = purge_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="evidence-feed", daemon=True)
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        from confluent_kafka import Consumer

        from riskstream.kafka_settings import polled_client_config

        consumer = Consumer({**polled_client_config(self.settings, "center"),
                             "group.id": f"{CENTER_GROUP_PREFIX}evidence-"
                                         f"{self.settings.topics.evidence}",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        consumer.subscribe([self.settings.topics.evidence])
        purged_at = said_at = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() - purged_at > self.purge_every_s:
                    purged_at = time.monotonic()
                    gone = self.store.purge()
                    if gone:
                        log.info("evidence: %d snapshots past their retention deleted", gone)
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    if time.monotonic() - said_at > 60:  # say it, not 2 lines a second
                        said_at = time.monotonic()
                        log.warning("evidence feed: %s", msg.error())
                    continue
                if self._keep(msg):
                    consumer.commit(message=msg, asynchronous=False)
                else:  # not kept: read it again after a pause, commit nothing past it
                    from confluent_kafka import TopicPartition

                    consumer.seek(TopicPartition(str(msg.topic()), int(msg.partition() or 0),
                                                 int(msg.offset() or 0)))
                    self._stop.wait(min(30.0, 2.0 ** min(self.failures, 5)))
        finally:
            consumer.close()

    def _keep(self, msg: Any) -> bool:
        value = msg.value() or b""
        try:
            outcome = self.store.check_and_keep(value)
            if outcome.result == "refused":
                log.warning("evidence refused (%s/%d@%d): %s", msg.topic(), msg.partition(),
                            msg.offset(), outcome.reason)
                self.dead_letter(DeadLetter(
                    "center.evidence", outcome.reason, f"{msg.topic()}/{msg.partition()}/"
                    f"{msg.offset()}", value, "invalid", site_id=outcome.site_id or None))
            self.store.settled(outcome)  # counted once, however often a dead letter was retried
        except Exception as exc:  # disk full, rs.dlq unreachable: retry, say why
            self.failures += 1
            log.error("evidence record %s/%d@%d not kept, will retry: %s", msg.topic(),
                      msg.partition(), msg.offset(), exc)
            return False
        self.failures = 0
        return True
