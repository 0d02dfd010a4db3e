"""Create riskstream's Kafka topics with the configured partition count (idempotent)."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from riskstream.config.schema import KafkaSettings
from riskstream.kafka_settings import librdkafka_config


def all_topic_names(settings: KafkaSettings) -> list[str]:
    return list(settings.topics.model_dump().values())


def ensure_topics(settings: KafkaSettings, timeout: float = 30.0) -> list[str]:
    """Create missing topics; returns the names created now."""
    admin = AdminClient(librdkafka_config(settings))
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [n for n in all_topic_names(settings) if n not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=settings.partitions, replication_factor=1) for name in wanted],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return created
