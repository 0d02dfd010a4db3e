"""One path end to end on real components:

real Mosquitto -> edge agent (subprocess) -> real Kafka -> Faust worker (subprocess) ->
ClickHouse engine, plus malformed payloads that end in the DLQ with their reason while the
valid readings still arrive. Expected events are written out by hand, not computed by the code
under test.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.events import Heartbeat
from riskstream.kafka_settings import librdkafka_config
from riskstream.launch import start_process, wait_for_metric
from riskstream.services import ServiceInfo
from riskstream.storage.clickhouse import connect
from riskstream.testing import config_publisher, read_topic
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration

CONFIG = """\
sites:
  - id: plant-a
    name: Plant A
    district: harbour
    kind: chemical_plant
    risk_points:
      - {{id: tank-farm, name: Tank farm}}
      - {{id: reactor, name: Reactor R-1}}
sensors:
  - id: gas-1
    site: plant-a
    point: tank-farm
    metric: combustible_gas
    unit: "%LEL"
    topic: t{u}/plant-a/gas-1
    thresholds: {{warning: 25, alarm: 50, deadband: 2}}
    valid_range: {{min: 0, max: 100}}
  - id: temp-1
    site: plant-a
    point: reactor
    metric: temperature
    unit: degC
    topic: t{u}/plant-a/temp-1
    thresholds: {{warning: 185, alarm: 200, deadband: 1}}
kafka:
  partitions: 2
  topics: {{events: e2e-{u}.events, dlq: e2e-{u}.dlq, readings: e2e-{u}.readings,
           health: e2e-{u}.health, alerts: e2e-{u}.alerts, alert_actions: e2e-{u}.actions}}
mqtt:
  username: riskstream-edge
  client_id: e2e-{u}
clickhouse:
  database: e2e_{u}
  batch_size: 7
  batch_seconds: 0.3
edge:
  heartbeat_s: 1
worker:
  app_id: e2e-{u}
  session_timeout_s: 6
"""

# An hour ago, on a minute boundary: within edge.max_reading_age_s whenever the test runs (a
# fixed date became a dead letter 7 days later), one 1-minute window per sensor.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
GAS = [5, 12, 26, 27, 51, 52, 49, 47, 20, 3]  # warning, alarm, back to warning, cleared
TEMP = [170, 171, 186, 199, 201, 199.5, 198.9, 150]  # warning, alarm, lowered to warning, cleared
EXPECTED = [  # (sensor, reading index, severity, level, previous level)
    ("gas-1", 2, "warning", "warning", "normal"),
    ("gas-1", 4, "critical", "alarm", "warning"),
    ("gas-1", 7, "warning", "warning", "alarm"),
    ("gas-1", 8, "info", "normal", "warning"),
    ("temp-1", 2, "warning", "warning", "normal"),
    ("temp-1", 4, "critical", "alarm", "warning"),
    ("temp-1", 6, "warning", "warning", "alarm"),
    ("temp-1", 7, "info", "normal", "warning"),
]
BAD = [  # (topic suffix, payload, words the DLQ reason must contain)
    ("gas-1", b'{"value": "high"}', "gas-1: value: expected a number, got str"),
    ("temp-1", b"\xff\xfe\x00", "temp-1: payload is not UTF-8"),
    ("gas-1", b'{"value": 250}', "gas-1: value: 250 %LEL outside the plausible range [0, 100]"),
]


def _sql(cfg: Config, query: str) -> list[dict[str, Any]]:
    """Query as the read-only analyst user of the services' ClickHouse endpoint."""
    result = connect(cfg.clickhouse, analyst=True).query(query)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def test_readings_become_events_in_clickhouse_and_bad_payloads_reach_the_dlq(
    services: ServiceInfo, unique: str, workdir: Path
) -> None:
    config = workdir / "e2e.yaml"
    config.write_text(CONFIG.format(u=unique))
    env = services.env()
    cfg = with_env_overrides(load(config, environ={}), env)
    ensure_topics(cfg)
    # the MQTT accounts before the edge subscribes (README order: riskstream mqtt accounts)
    publisher = config_publisher(services.state_dir, cfg, env, f"e2e-sensors-{unique}")
    worker = start_process("worker", config, workdir, env, workdir / "logs")
    edge = start_process("edge", config, workdir, env, workdir / "logs")
    try:
        # A record on rs.events that is not an event: the worker must DLQ it and go on.
        producer = Producer(librdkafka_config(cfg.kafka, "edge"))
        producer.produce(cfg.kafka.topics.events, key=b"plant-a", value=b"not an event")
        assert producer.flush(10) == 0
        pending = []
        series = {"gas-1": GAS, "temp-1": TEMP}
        for i in range(max(len(GAS), len(TEMP))):
            for sensor, values in series.items():
                if i < len(values):
                    ts = T0 + timedelta(seconds=i)
                    body = {"value": values[i], "ts": ts.isoformat().replace("+00:00", "Z")}
                    pending.append(publisher.publish(f"t{unique}/plant-a/{sensor}",
                                                     json.dumps(body).encode(), qos=1))
            if i == 3:  # bad payloads in the middle of the stream
                for sensor, payload, _ in BAD:
                    pending.append(publisher.publish(f"t{unique}/plant-a/{sensor}", payload, qos=1))
        for info in pending:
            info.wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()

        valid = len(GAS) + len(TEMP)
        assert wait_for_metric(edge, "riskstream_edge_readings_total", valid, 30) == valid
        assert wait_for_metric(edge, "riskstream_edge_dead_letters_total", len(BAD), 30) == len(BAD)
        stored = wait_for_metric(worker, "riskstream_worker_rows_stored_total", len(EXPECTED), 60,
                                 table=f"e2e_{unique}.events")
        assert stored == len(EXPECTED)

        dead = read_topic(cfg.kafka, cfg.kafka.topics.dlq, expect=len(BAD) + 1, timeout=30)
        records = [json.loads(value) for _, value in dead]
        assert len(records) == len(BAD) + 1
        edge_dead = [r for r in records if r["stage"] == "edge.parse"]
        for _, payload, words in BAD:
            (match,) = [r for r in edge_dead if r["reason"].startswith(words)]
            assert base64.b64decode(match["payload_b64"]) == payload
        (worker_dead,) = [r for r in records if r["stage"] == "worker.decode"]
        assert worker_dead["reason"].startswith("payload: not valid UTF-8 JSON")
        assert worker_dead["source"].startswith(cfg.kafka.topics.events + "/")
        assert {key for key, _ in dead} == {b"plant-a"}
        keys = {key for key, _ in read_topic(cfg.kafka, cfg.kafka.topics.events,
                                             expect=1, timeout=30, settle=2.0)}
        assert keys == {b"plant-a"}
        beats = [Heartbeat.from_json(v) for _, v in read_topic(
            cfg.kafka, cfg.kafka.topics.health, expect=3, timeout=30)]
        sources = {b.source_id for b in beats}
        assert sources - {f"edge:{cfg.mqtt.client_id}"} == {"gas-1", "temp-1"}
        assert any(b.attrs.get("device") == "edge" and "outbox_depth" in b.attrs for b in beats)
        # every reading lands in a 1 s summary (one per second of device time here) and
        # a 1 min one, once the window closed: 18 + 2 rows
        windows = len(GAS) + len(TEMP) + 2
        assert wait_for_metric(worker, "riskstream_worker_rows_stored_total", windows, 60,
                               table=f"e2e_{unique}.readings") == windows
    finally:
        edge.stop()
        worker.stop()

    rows = _sql(cfg, f"SELECT event_id, kind, site_id, district, source_id, point_id, "
                "toUnixTimestamp64Milli(ts) AS ts_ms, score, severity, value, unit, model, attrs "
                f"FROM e2e_{unique}.events FINAL ORDER BY source_id, ts")
    got = [(r["source_id"], r["ts_ms"], r["severity"], json.loads(r["attrs"])["level"],
            json.loads(r["attrs"])["previous_level"], r["value"]) for r in rows]
    want = [(sensor, int((T0 + timedelta(seconds=i)).timestamp() * 1000), severity, level, prev,
             series[sensor][i]) for sensor, i, severity, level, prev in EXPECTED]
    assert got == want
    assert {(r["kind"], r["site_id"], r["district"], r["model"]) for r in rows} == {
        ("sensor.threshold", "plant-a", "harbour", "static-threshold@1")}
    assert {r["source_id"]: r["point_id"] for r in rows} == {"gas-1": "tank-farm", "temp-1": "reactor"}
    assert {r["source_id"]: r["unit"] for r in rows} == {"gas-1": "%LEL", "temp-1": "degC"}
    assert [r["score"] for r in rows[:4]] == [0.5, 1.0, 0.5, 0.0]
    assert len({r["event_id"] for r in rows}) == len(EXPECTED)
    summaries = _sql(cfg, f"SELECT source_id, sum(count) AS n, min(min) AS lo, max(max) AS hi "
                          f"FROM e2e_{unique}.readings FINAL WHERE window_s = 1 "
                          f"GROUP BY source_id ORDER BY source_id")
    assert [(s["source_id"], s["n"], s["lo"], s["hi"]) for s in summaries] == [
        ("gas-1", len(GAS), min(GAS), max(GAS)), ("temp-1", len(TEMP), min(TEMP), max(TEMP))]
