"""The command center's side of the alert stream: follow ``rs.alerts`` and act on alerts.

``riskstream alerts tail`` is a real Kafka consumer of ``rs.alerts`` (filters by district and
minimum severity); ``riskstream alerts ack|resolve|comment`` sends an action to
``rs.alert-actions`` keyed by site_id, which the correlator applies and answers with the
alert's next revision, or refuses with a dead letter that says why; :func:`act` waits for
either, so the operator learns whether the action took effect.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
    connect_timeout: float = 10.0,
) -> Iterator[Alert]:
    """Yield alerts from ``rs.alerts`` as they arrive (bad records are skipped). A broker that
    does not answer within ``connect_timeout`` at the start raises ``KafkaException``: a tail
    that waited on it silently looked like a quiet alert stream."""
    from confluent_kafka import Consumer

    from riskstream.kafka_settings import polled_client_config

    consumer = Consumer({**polled_client_config(settings, "center"),
                         "group.id": f"riskstream-center-tail-{time.time_ns()}",
                         "auto.offset.reset": "earliest" if from_beginning else "latest",
                         "enable.auto.commit": False})
    try:
        consumer.list_topics(timeout=connect_timeout)
    except BaseException:
        consumer.close()
        raise
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

    from riskstream.kafka_settings import polled_client_config

    producer = Producer({**polled_client_config(settings, "center"), "enable.idempotence": True,
                         "acks": "all", "partitioner": "murmur2_random"})
    producer.produce(settings.topics.alert_actions, key=action.site_id.encode(),
                     value=action.to_json())
    if producer.flush(timeout):
        raise RuntimeError(f"action not delivered to {settings.topics.alert_actions} "
                           f"within {timeout:.0f} s")


@dataclass(frozen=True)
class Outcome:
    """What became of an action: the alert revision it produced, or why it was refused."""

    applied: Alert | None = None
    refused: str | None = None  # the correlator's reason (its dead letter)
    timed_out: bool = False


def act(settings: KafkaSettings, action: AlertAction, timeout: float = 30.0) -> Outcome:
    """Send ``action`` and wait for the revision it produced or the dead letter refusing it."""
    from confluent_kafka import Consumer, TopicPartition

    from riskstream.kafka_settings import polled_client_config

    consumer = Consumer({**polled_client_config(settings, "center"),
                         "group.id": f"riskstream-center-act-{time.time_ns()}",
                         "enable.auto.commit": False})
    try:
        # Start from the current ends (taken before sending) so the answer cannot be missed.
        topics = [settings.topics.alerts, settings.topics.dlq]
        meta = consumer.list_topics(timeout=10)
        starts = []
        for topic in topics:
            for partition in meta.topics[topic].partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
                starts.append(TopicPartition(topic, partition, high))
        consumer.assign(starts)
        send_action(settings, action, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            outcome = _answer(msg.topic() == settings.topics.alerts, msg.value() or b"", action)
            if outcome is not None:
                return outcome
        return Outcome(timed_out=True)
    finally:
        consumer.close()


def _answer(is_alert: bool, value: bytes, action: AlertAction) -> Outcome | None:
    """The outcome of ``action`` if this record is its answer."""
    if is_alert:
        try:
            alert = Alert.from_json(value)
        except EventError:
            return None
        last = alert.lifecycle.last_action
        return Outcome(applied=alert) if last and last.action_id == action.action_id else None
    found = refusal_of(value)
    if found is not None and found[0] == action.action_id:
        return Outcome(refused=found[1])
    return None


def refusal_of(value: bytes) -> tuple[str, str] | None:
    """(action_id, reason) if this rs.dlq record is a refused action, else None. Any stage:
    an action the correlator could not take at all (a site not in its config, stage
    worker.correlate) is as refused as one it judged (worker.action); waiting for an answer
    only the latter gets, the CLI timed out and asked whether a worker was running."""
    try:
        dead = json.loads(value)
        payload = json.loads(base64.b64decode(dead["payload_b64"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if isinstance(payload, dict) and isinstance(payload.get("action_id"), str):
        return payload["action_id"], str(dead.get("reason", "refused"))
    return None


def make_action(kind: str, alert_id: str, site_id: str, by: str, comment: str = "",
                **details: Any) -> AlertAction:
    """An action; ``details`` are AlertAction's optional fields (role, action_taken,
    duration_s, assignee, target)."""
    return AlertAction(alert_id=alert_id, site_id=site_id, action=ActionKind(kind), by=by,
                       comment=comment, **details)


def alert_json(alert: Alert) -> str:
    return json.dumps(alert.to_dict())
