"""Helpers for tests and for users who try riskstream by hand: a fake clock, event factories,
an authenticated MQTT publisher, and a reader that drains a Kafka topic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from riskstream.config.schema import Config, KafkaSettings
from riskstream.events import Event, Severity


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``check`` until it is truthy (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def make_event(**overrides: Any) -> Event:
    """A valid gas-threshold event; override any field."""
    fields: dict[str, Any] = {
        "kind": "sensor.threshold", "site_id": "plant-east", "district": "binhai",
        "source_id": "gas-tf-01", "point_id": "tank-farm", "severity": Severity.WARNING,
        "score": 0.5, "value": 31.5, "unit": "%LEL", "model": "static-threshold@1",
        "ts": datetime(2026, 11, 29, 10, 0, tzinfo=UTC), "attrs": {"level": "warning"},
    }
    fields.update(overrides)
    return Event(**fields)


def mqtt_publisher(env: dict[str, str], client_id: str, user: str | None = None,
                   password: str | None = None) -> Any:
    """A connected paho client on the broker of ``env``'s ``RS_MQTT_*`` settings (loop running),
    as ``user`` (default: ``RS_MQTT_USERNAME``)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(user or env["RS_MQTT_USERNAME"], password or env["RS_MQTT_PASSWORD"])
    client.max_inflight_messages_set(1000)
    client.connect(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]))
    client.loop_start()
    return client


def config_publisher(state_dir: str | Path, cfg: Config, env: dict[str, str],
                     client_id: str, also: tuple[str, ...] = ()) -> Any:
    """A publisher on the local stack's Mosquitto that may publish on every sensor topic of
    ``cfg`` (a test account named ``client_id``), after granting ``cfg``'s accounts as
    ``riskstream mqtt accounts`` does (so the edge may read them); ``also``: more topics it
    may publish on."""
    return mqtt_publisher(env, client_id, client_id, grant_publisher(state_dir, cfg, client_id, also))


def grant_publisher(state_dir: str | Path, cfg: Config, user: str,
                    also: tuple[str, ...] = ()) -> str:
    """Grant ``cfg``'s accounts on the local stack's Mosquitto (as ``riskstream mqtt
    accounts`` does) and an account ``user`` that may publish on every sensor topic of ``cfg``
    and on ``also``; returns its password. Its broker closes every topic by default: a load
    published under another account is dropped without a word (MQTT 3.1.1)."""
    from riskstream.services import LocalServices
    from riskstream.services.mqtt_accounts import wanted

    grants = {**wanted(cfg), user: ([], [*(s.topic for s in cfg.sensors), *also])}
    return LocalServices(Path(state_dir)).grant_mqtt_accounts(grants)[user].password


@dataclass(frozen=True)
class ReadRecord:
    """One record read back from Kafka, with what a diagnosis needs beside key and value."""

    key: bytes | None
    value: bytes
    partition: int
    offset: int
    timestamp_ms: int
    headers: dict[str, bytes]


def read_topic(
    settings: KafkaSettings, topic: str, *, expect: int, timeout: float = 30.0,
    settle: float = 0.0,
) -> list[tuple[bytes | None, bytes]]:
    """Read ``topic`` from the beginning until ``expect`` records or ``timeout``; (key, value).

    With ``settle`` > 0, keep reading after ``expect`` until no record came for that long
    (to see re-sent duplicates too).
    """
    return [(r.key, r.value) for r in read_topic_records(settings, topic, expect=expect,
                                                         timeout=timeout, settle=settle)]


def one_second_counts(values: list[bytes]) -> dict[tuple[str, datetime], int]:
    """Readings per sensor and 1 s window in the ReadingSummary records ``values`` (the
    newest of a re-sent summary wins: it is the same summary)."""
    from riskstream.events import ReadingSummary

    counts: dict[tuple[str, datetime], int] = {}
    for value in values:
        summary = ReadingSummary.from_json(value)
        if summary.window_s == 1:
            counts[(summary.source_id, summary.ts)] = summary.count
    return counts


def read_topic_records(
    settings: KafkaSettings, topic: str, *, expect: int, timeout: float = 30.0,
    settle: float = 0.0,
) -> list[ReadRecord]:
    """:func:`read_topic` with each record's partition, offset, timestamp and headers."""
    from confluent_kafka import Consumer

    from riskstream.kafka_settings import librdkafka_config

    consumer = Consumer({**librdkafka_config(settings, "admin"), "group.id": f"reader-{time.time_ns()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    records: list[ReadRecord] = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if len(records) >= expect and (not settle or time.monotonic() - last > settle):
                break
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            last = time.monotonic()
            pairs: list[Any] = list(msg.headers() or [])
            headers = {str(k): v if isinstance(v, bytes) else str(v or "").encode()
                       for k, v in pairs}
            records.append(ReadRecord(msg.key(), msg.value() or b"", msg.partition() or 0,
                                      msg.offset() or 0, msg.timestamp()[1], headers))
    finally:
        consumer.close()
    return records


# -- an in-memory driver for the correlator's core ---------------------------------------


class MemoryStore:
    """A dict standing in for the correlator's Faust table (``SiteStore``).

    ``fail_next`` makes the next writes raise (a producer that does not know the changelog
    topic yet, say); ``journal`` keeps every write in order, so a test can cut it at any point
    to see what a crash there would have left.
    """

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.data: dict[bytes, bytes] = {}
        self.journal: list[tuple[bytes, bytes | None]] = []
        self.fail_next = 0
        self.flushes = 0

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def put(self, site: str, key: bytes, value: bytes | None) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise TypeError("'NoneType' object is not iterable")  # as aiokafka raised it
        self.journal.append((key, value))
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value

    async def flush(self) -> None:
        self.flushes += 1  # every write is durable at once here

    def items(self, partitions: Any) -> list[tuple[bytes, bytes]]:
        from riskstream.streams.correlator_core import partition_of
        from riskstream.streams.dedup import is_segment_key, site_of

        def site(key: bytes) -> str:
            return site_of(key) if is_segment_key(key) else key.decode()

        return [(k, v) for k, v in self.data.items()
                if partition_of(site(k), self.partitions) in partitions]

    def replayed_up_to(self, writes: int) -> MemoryStore:
        """The store as a crash after the first ``writes`` journal entries would leave it."""
        copy = MemoryStore(self.partitions)
        for key, value in self.journal[:writes]:
            copy.put("", key, value)
        return copy


class MemoryOutlet:
    """Collects what the core produces (``Outlet``); ``fail_next`` makes sends raise."""

    def __init__(self) -> None:
        from riskstream.streams.correlator_core import Outgoing

        self.sent: list[Outgoing] = []
        self.fail_next = 0

    async def send(self, messages: Any) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("broker unavailable")
        self.sent += list(messages)

    def on(self, topic: str) -> list[Any]:
        return [m for m in self.sent if m.topic == topic]
