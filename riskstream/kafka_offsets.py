"""A consumer group's committed offsets next to the partitions' end offsets, read from outside
the group (the consumer never subscribes, so it never joins or disturbs a rebalance).

The workers' stall watchdog and the stream benchmark's "all committed?" check both ask this.
"""

from __future__ import annotations

from typing import Any

from riskstream.config.schema import KafkaSettings
from riskstream.kafka_settings import librdkafka_config

Partition = tuple[str, int]


class GroupOffsets:
    def __init__(self, settings: KafkaSettings, group: str) -> None:
        from confluent_kafka import Consumer

        # log_level 0: never polled, this consumer's librdkafka lines went to stderr, a FAIL
        # line every 50 ms while the broker was down (880 in 40 s of a worker's log); the
        # watchdog treats a failed probe as "not ours to judge", and Faust's own clients say
        # the broker is away
        self._consumer: Any = Consumer({**librdkafka_config(settings, "worker"), "group.id": group,
                                        "enable.auto.commit": False, "log_level": 0})

    def committed(self, partitions: list[Partition], timeout: float) -> dict[Partition, int]:
        """The group's next offset to read per partition; 0 where it has committed nothing."""
        from confluent_kafka import TopicPartition

        found = self._consumer.committed([TopicPartition(t, p) for t, p in partitions],
                                         timeout=timeout)
        return {(tp.topic, tp.partition): max(tp.offset, 0) for tp in found}

    def ends(self, partitions: list[Partition], timeout: float) -> dict[Partition, int]:
        """The offset the next record of each partition will get (its high watermark)."""
        from confluent_kafka import TopicPartition

        return {(t, p): self._consumer.get_watermark_offsets(TopicPartition(t, p),
                                                             timeout=timeout)[1]
                for t, p in partitions}

    def close(self) -> None:
        self._consumer.close()
