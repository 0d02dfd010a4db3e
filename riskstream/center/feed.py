"""The console's Kafka side: one consumer thread fills the :class:`Board` from ``rs.alerts``
(from the beginning, so a restarted console rebuilds every open alarm) and learns from
``rs.dlq`` why an action was refused; one producer sends actions to ``rs.alert-actions``."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from riskstream.center.board import Board
from riskstream.command_center import refusal_of
from riskstream.config.schema import KafkaSettings
from riskstream.events import Alert, AlertAction, EventError
from riskstream.kafka_acls import CENTER_GROUP_PREFIX

log = logging.getLogger(__name__)


class AlertFeed:
    def __init__(self, settings: KafkaSettings, board: Board) -> None:
        self.settings, self.board = settings, board
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
        from confluent_kafka import Consumer, TopicPartition

        from riskstream.kafka_settings import librdkafka_config

        consumer = Consumer({**librdkafka_config(self.settings, "center"),
                             "group.id": f"{CENTER_GROUP_PREFIX}console-{time.time_ns()}",
                             "enable.auto.commit": False})
        meta = consumer.list_topics(timeout=30)
        assign, ends = [], {}
        for topic in (self.settings.topics.alerts, self.settings.topics.dlq):
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
        from confluent_kafka import Producer

        from riskstream.kafka_settings import librdkafka_config

        with self._produce_lock:
            if self._producer is None:
                self._producer = Producer({**librdkafka_config(self.settings, "center"),
                                           "enable.idempotence": True, "acks": "all",
                                           "partitioner": "murmur2_random"})
            self._producer.produce(self.settings.topics.alert_actions,
                                   key=action.site_id.encode(), value=action.to_json())
            if self._producer.flush(timeout):
                raise RuntimeError("the action was not delivered to Kafka in time")
