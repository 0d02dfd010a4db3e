"""The edge agent: a thin shell that wires MQTT -> SensorPipeline -> Kafka.

All decisions live in :mod:`riskstream.sensors.pipeline`; this module only moves bytes and
keeps the process alive: a bad payload becomes a dead letter, never an exception.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from prometheus_client import start_http_server

from riskstream.config.schema import Config
from riskstream.edge import metrics
from riskstream.edge.kafka_producer import EventProducer
from riskstream.edge.mqtt_source import MqttSource
from riskstream.events import utc_now
from riskstream.sensors.pipeline import SensorPipeline

log = logging.getLogger(__name__)


class EdgeAgent:
    def __init__(self, cfg: Config, clock: Callable[[], datetime] = utc_now) -> None:
        self._cfg = cfg
        self._clock = clock
        self._topics = cfg.kafka.topics
        self.pipeline = SensorPipeline(cfg)
        self.producer = EventProducer(cfg.kafka)
        self.source = MqttSource(cfg.mqtt, self.pipeline.topics, self.handle)
        self._stop = threading.Event()

    def handle(self, topic: str, payload: bytes) -> None:
        outcome = self.pipeline.process(topic, payload, self._clock())
        if outcome.dead_letter is not None:
            dl = outcome.dead_letter
            metrics.DEAD_LETTERS.labels(dl.error_type).inc()
            log.warning("dead letter stage=%s reason=%s", dl.stage, dl.reason)
            self.producer.send(self._topics.dlq, dl.key, dl.to_json())
            return
        if outcome.reading is not None:
            metrics.READINGS.labels(outcome.reading.sensor_id).inc()
        for event in outcome.events:
            metrics.EVENTS.labels(event.kind, event.severity.value).inc()
            log.info("event kind=%s site=%s source=%s severity=%s value=%s", event.kind,
                     event.site_id, event.source_id, event.severity.value, event.value)
            self.producer.send(self._topics.events, event.site_id.encode(), event.to_json())

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then flush what Kafka has not acknowledged yet."""
        if self._cfg.edge.metrics_port:
            start_http_server(self._cfg.edge.metrics_port, addr="127.0.0.1")
            log.info("metrics on http://127.0.0.1:%d/metrics", self._cfg.edge.metrics_port)
        self.source.start()
        log.info("edge agent running sensors=%d kafka=%s", len(self.pipeline.topics),
                 self._cfg.kafka.bootstrap)
        try:
            while not self._stop.is_set():
                self.producer.poll(0.2)
        finally:
            self.source.stop()
            left = self.producer.flush(30)
            log.info("edge agent stopped; undelivered=%d", left)


def run_edge(cfg: Config) -> None:
    agent = EdgeAgent(cfg)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run()
