"""Idempotent Kafka producer (librdkafka): acks=all, ordered per partition, lz4 batches."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from riskstream.config.schema import KafkaSettings
from riskstream.edge import metrics
from riskstream.kafka_settings import librdkafka_config

log = logging.getLogger(__name__)


class EventProducer:
    """Thread-safe: ``send`` may be called from the MQTT thread, ``poll`` from the main loop."""

    def __init__(self, settings: KafkaSettings, client_id: str = "riskstream-edge") -> None:
        conf: dict[str, Any] = {
            **librdkafka_config(settings, "edge"),
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            # Same key -> partition mapping as Java clients, aiokafka and Faust (murmur2), so a
            # site's events, actions and table state share one partition number across topics.
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.timeout.ms": 300_000,
        }
        self._producer = Producer(conf)

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=self._delivered)
                return
            except BufferError:  # local queue full: serve callbacks, then retry
                self._producer.poll(0.1)

    def poll(self, timeout: float) -> None:
        self._producer.poll(timeout)

    def flush(self, timeout: float) -> int:
        """Wait for outstanding deliveries; returns how many are still undelivered."""
        return int(self._producer.flush(timeout))

    @staticmethod
    def _delivered(err: KafkaError | None, msg: Message) -> None:
        topic = msg.topic() or "?"
        if err is None:
            metrics.DELIVERED.labels(topic).inc()
        else:
            metrics.DELIVERY_ERRORS.labels(topic).inc()
            log.error("kafka delivery failed topic=%s key=%s error=%s", topic, msg.key(), err)
