"""MQTT subscription (paho-mqtt 2.x): authenticate, subscribe, resubscribe on reconnect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from riskstream.config.schema import MqttSettings, env_secret
from riskstream.edge import metrics

log = logging.getLogger(__name__)

# handler(topic, payload, mid, qos, dup): the handler acknowledges QoS 1/2 messages itself,
# through MqttSource.ack, once what they produced is durable; dup marks a broker's re-send.
MessageHandler = Callable[[str, bytes, int, int, bool], None]


class MqttSource:
    """Calls ``handler(topic, payload)`` on paho's network thread for every message."""

    def __init__(self, settings: MqttSettings, topics: list[str], handler: MessageHandler) -> None:
        self._settings = settings
        self._topics = topics
        self._handler = handler
        # A persistent session under a stable client id: while the agent is down (or
        # restarting after a crash) the broker keeps its QoS 1 messages for it.
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                                   protocol=mqtt.MQTTv311, clean_session=False)
        if settings.username:
            self._client.username_pw_set(settings.username, env_secret(settings.password_env))
        if settings.tls:
            self._client.tls_set(ca_certs=settings.ca_file)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.manual_ack_set(True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscribing: dict[int, list[str]] = {}

    def start(self) -> None:
        s = self._settings
        log.info("mqtt connecting host=%s port=%d user=%s tls=%s", s.host, s.port, s.username,
                 s.tls)
        self._client.connect_async(s.host, s.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        metrics.MQTT_CONNECTED.set(0)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("mqtt connection refused: %s (check user/password in %s)", reason,
                      self._settings.password_env)
            return
        metrics.MQTT_RECONNECTS.inc()
        if self._topics:
            _, mid = client.subscribe([(t, int(self._settings.qos)) for t in self._topics])
            if mid is not None:
                self._subscribing[mid] = list(self._topics)
        metrics.MQTT_CONNECTED.set(1)
        log.info("mqtt subscribed topics=%d qos=%d", len(self._topics), self._settings.qos)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        topics = self._subscribing.pop(mid, [])
        refused = [t for t, r in zip(topics, reasons, strict=False) if r.is_failure]
        if refused:
            metrics.MQTT_SUBSCRIPTIONS_REFUSED.set(len(refused))
            log.error("mqtt broker refused %d of %d subscriptions (its ACL does not let user %s "
                      "read them; run 'riskstream mqtt accounts -c CONFIG' on the broker's "
                      "host): %s", len(refused), len(topics), self._settings.username,
                      ", ".join(refused[:10]))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        metrics.MQTT_CONNECTED.set(0)
        if reason.is_failure:
            log.warning("mqtt disconnected: %s; reconnecting with backoff", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._handler(msg.topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.dup))
        except Exception:  # never let one message kill the network thread
            log.exception("unexpected error handling topic=%s", msg.topic)
            self.ack(msg.mid, msg.qos)  # a message that crashes us would crash us again

    def ack(self, mid: int, qos: int) -> None:
        if qos > 0:
            self._client.ack(mid, qos)
