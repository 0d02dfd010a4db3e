"""The command center's side of the alert stream: follow ``rs.alerts`` and act on alerts.

``riskstream alerts tail`` is a real Kafka consumer of ``rs.alerts`` (filters by district and
minimum severity); ``riskstream alerts ack|resolve|comment`` sends an action to
``rs.alert-actions`` keyed by site_id, which the correlator applies and answers with the
alert's next revision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from riskstream.config.schema import KafkaSettings
from riskstream.events import ActionKind, Alert, AlertAction, EventError, Severity


@dataclass(frozen=True)
class AlertFilter:
    district: str | None = None
    min_severity: Severity = Severity.INFO

    def accepts(self, alert: Alert) -> bool:
        return (self.district is None or alert.district == self.district) and (
            alert.severity.rank >= self.min_severity.rank)


def format_alert(alert: Alert) -> str:
    events = len(alert.event_ids)
    return (f"{alert.updated_at:%Y-%m-%d %H:%M:%S} {alert.severity.value.upper():<8} "
            f"{alert.status.value:<12} {alert.district:<10} {alert.site_id:<14} "
            f"{alert.alert_id} r{alert.revision} [{alert.rule}] {events} events\n"
            f"    {alert.explanation}")


def follow_alerts(
    settings: KafkaSettings, flt: AlertFilter, *, from_beginning: bool = False,
    stop: Callable[[], bool] = lambda: False, idle_timeout: float | None = None,
) -> Iterator[Alert]:
    """Yield alerts from ``rs.alerts`` as they arrive (bad records are skipped)."""
    from confluent_kafka import Consumer

    from riskstream.kafka_settings import librdkafka_config

    consumer = Consumer({**librdkafka_config(settings),
                         "group.id": f"riskstream-alerts-tail-{time.time_ns()}",
                         "auto.offset.reset": "earliest" if from_beginning else "latest",
                         "enable.auto.commit": False})
    consumer.subscribe([settings.topics.alerts])
    last = time.monotonic()
    try:
        while not stop():
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                if idle_timeout is not None and time.monotonic() - last > idle_timeout:
                    return
                continue
            last = time.monotonic()
            try:
                alert = Alert.from_json(msg.value() or b"")
            except EventError:
                continue
            if flt.accepts(alert):
                yield alert
    finally:
        consumer.close()


def send_action(settings: KafkaSettings, action: AlertAction, timeout: float = 30.0) -> None:
    from confluent_kafka import Producer

    from riskstream.kafka_settings import librdkafka_config

    producer = Producer({**librdkafka_config(settings), "enable.idempotence": True,
                         "acks": "all", "partitioner": "murmur2_random"})
    producer.produce(settings.topics.alert_actions, key=action.site_id.encode(),
                     value=action.to_json())
    if producer.flush(timeout):
        raise RuntimeError(f"action not delivered to {settings.topics.alert_actions} "
                           f"within {timeout:.0f} s")


def make_action(kind: str, alert_id: str, site_id: str, by: str, comment: str = "") -> AlertAction:
    return AlertAction(alert_id=alert_id, site_id=site_id, action=ActionKind(kind), by=by,
                       comment=comment)


def alert_json(alert: Alert) -> str:
    return json.dumps(alert.to_dict())
