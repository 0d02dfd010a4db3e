"""The stall watchdog on real Kafka: records waiting and nothing committed -> stall reported;
a caught-up group -> silence."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from riskstream.config.schema import KafkaSettings
from riskstream.kafka_settings import librdkafka_config
from riskstream.services import ServiceInfo
from riskstream.streams.watchdog import StallWatchdog, mark_activity
from riskstream.topics import grant_acls

pytestmark = pytest.mark.integration


def test_watchdog_reports_waiting_records_without_progress(services: ServiceInfo,
                                                           unique: str) -> None:
    settings = KafkaSettings(bootstrap=services.kafka_bootstrap, security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-512")
    # the watchdog reads offsets as the worker: its own app's group and topics
    grant_acls(settings, "riskstream")
    topic, group = f"riskstream-wd-{unique}", f"riskstream-wd-group-{unique}"
    producer = Producer(librdkafka_config(settings, "admin"))
    for i in range(5):
        producer.produce(topic, key=b"k", value=str(i).encode(), partition=0)
    assert producer.flush(30) == 0

    def watch(stall_after: float) -> tuple[threading.Event, list[str], StallWatchdog]:
        fired, reasons = threading.Event(), []

        def on_stall(reason: str) -> None:
            reasons.append(reason)
            fired.set()

        dog = StallWatchdog(settings, group, lambda: {(topic, 0)}, stall_after, on_stall,
                            interval_s=0.5)
        dog.start()
        return fired, reasons, dog

    fired, reasons, dog = watch(2.0)
    assert fired.wait(20), "a partition with waiting records and no commits must be reported"
    assert "no progress for 2 s" in reasons[0]

    # A worker that keeps working (e.g. retrying a ClickHouse write) is not stalled.
    busy = threading.Event()

    def keep_busy() -> None:
        while not busy.wait(0.2):
            mark_activity()

    threading.Thread(target=keep_busy, daemon=True).start()
    fired_busy, _, busy_dog = watch(1.0)
    try:
        assert not fired_busy.wait(5)
    finally:
        busy.set()
        busy_dog.stop()
    assert topic in reasons[0] and "no progress for 2 s" in reasons[0]

    # Commit everything: the group is caught up, nothing to report.
    committer = Consumer({**librdkafka_config(settings, "admin"), "group.id": group})
    committer.commit(offsets=[TopicPartition(topic, 0, 5)], asynchronous=False)
    committer.close()
    fired, _, dog = watch(1.0)
    try:
        assert not fired.wait(5)
    finally:
        dog.stop()
        dog.join(10)
