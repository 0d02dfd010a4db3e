"""An asset end to end on the real stack, with SKAB rows replayed over MQTT:

real Mosquitto -> edge (no asset yet) -> Kafka -> worker -> ClickHouse readings; then
``riskstream models train asset`` learns the pump's window model from that normal history in
ClickHouse (the operator picks the period); the edge restarted with the asset loads the
artifact, and the experiment's faulty rows raise ``sensor.anomaly`` events of the asset, with
each channel's contribution, in ClickHouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.evaluation.datapath import DataMissing, dataset_dir
from riskstream.launch import start_process
from riskstream.services import ServiceInfo
from riskstream.storage.clickhouse import connect
from riskstream.testing import config_publisher, wait_for
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration

EXPERIMENT = "valve1/0.csv"
NORMAL_ROWS = 400  # SKAB's protocol: the first 400 rows of an experiment are normal
CHANNELS = [f"ch{i}" for i in range(6)]  # the SKAB window model's six features, in order

CONFIG = """\
sites:
  - {{id: plant-a, name: Plant A, district: harbour, kind: chemical_plant,
     risk_points: [{{id: pump-1, name: Pump 1}}]}}
sensors:
{sensors}
{assets}
kafka:
  partitions: 2
  topics: {{events: as-{u}.events, dlq: as-{u}.dlq, readings: as-{u}.readings,
           health: as-{u}.health, alerts: as-{u}.alerts, alert_actions: as-{u}.actions}}
mqtt: {{username: riskstream-edge, client_id: as-{u}}}
clickhouse: {{database: as_{u}, batch_size: 500, batch_seconds: 0.3}}
edge: {{heartbeat_s: 5, models_dir: "{models}"}}
worker: {{app_id: as-{u}, session_timeout_s: 6}}
"""
ASSET = """\
assets:
  - id: pump-1-asset
    site: plant-a
    point: pump-1
    sensors: [{channels}]
    cadence_s: 1
    detector: {{type: window_model, model: pump-1@1, threshold: {{threshold: 0.5, min_consecutive: 5}}}}
"""


def skab_rows() -> tuple[np.ndarray, np.ndarray]:
    from riskstream.evaluation import skab

    try:
        root = dataset_dir("skab")
    except DataMissing as exc:
        pytest.skip(f"needs the shared SKAB data: {exc}")
    return skab.read_experiment(root / "data" / EXPERIMENT)


def config_text(u: str, models: Path, with_asset: bool) -> str:
    sensors = "\n".join(f"  - {{id: {c}, site: plant-a, point: pump-1, metric: {c}, unit: count, "
                        f"topic: as{u}/pump-1/{c}}}" for c in CHANNELS)
    assets = ASSET.format(channels=", ".join(CHANNELS)) if with_asset else ""
    return CONFIG.format(u=u, sensors=sensors, assets=assets, models=models)


def publish(publisher: Any, u: str, rows: np.ndarray, start: datetime) -> None:
    pending = []
    for i, row in enumerate(rows):
        ts = (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        for c, v in zip(CHANNELS, row, strict=True):
            pending.append(publisher.publish(f"as{u}/pump-1/{c}",
                                             json.dumps({"value": float(v), "ts": ts}).encode(), qos=1))
    for info in pending:
        info.wait_for_publish(30)


def rows_of(cfg: Any, query: str) -> list[tuple[Any, ...]]:
    return list(connect(cfg.clickhouse, analyst=True).query(query).result_rows)


def count(cfg: Any, query: str) -> int:
    try:
        return int(rows_of(cfg, query)[0][0])
    except Exception:  # the table may not exist yet
        return 0


def test_an_asset_model_trained_from_clickhouse_flags_the_pump_fault(
    services: ServiceInfo, unique: str, workdir: Path
) -> None:
    rows, labels = skab_rows()
    models = workdir / "models"
    first, second = workdir / "edge1.yaml", workdir / "edge2.yaml"
    first.write_text(config_text(unique, models, with_asset=False))
    second.write_text(config_text(unique, models, with_asset=True))
    env = services.env()
    cfg = with_env_overrides(load(second, environ={}), env)
    ensure_topics(cfg)
    publisher = config_publisher(services.state_dir, cfg, env, f"as-pub-{unique}")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    worker = start_process("worker", second, workdir, env, workdir / "logs")
    edge = start_process("edge", first, workdir, env, workdir / "logs")
    try:
        publish(publisher, unique, rows[:NORMAL_ROWS], start)
        stored = f"SELECT count() FROM as_{unique}.readings FINAL WHERE window_s = 1"
        wait_for(lambda: count(cfg, stored) >= NORMAL_ROWS * len(CHANNELS), 120, 1.0)
        assert count(cfg, stored) == NORMAL_ROWS * len(CHANNELS)
        edge.stop()
        until = start + timedelta(seconds=NORMAL_ROWS)
        trained = subprocess.run(
            [sys.executable, "-m", "riskstream", "models", "train", "asset", "-c", str(second),
             "--asset", "pump-1-asset", "--since", start.isoformat(), "--until", until.isoformat(),
             "--models", str(models)],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
        assert trained.returncode == 0, trained.stderr[-2000:]
        assert f"{NORMAL_ROWS} complete rows" in trained.stdout
        assert (models / "pump-1" / "1" / "model.onnx").is_file()

        edge = start_process("edge", second, workdir, env, workdir / "logs")
        publish(publisher, unique, rows[NORMAL_ROWS:], start + timedelta(seconds=NORMAL_ROWS))
        query = (f"SELECT count() FROM as_{unique}.events FINAL WHERE kind = 'sensor.anomaly' "
                 "AND source_id = 'pump-1-asset'")
        assert wait_for(lambda: count(cfg, query) >= 1, 120, 1.0)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        edge.stop()
        worker.stop()

    events = rows_of(cfg, f"SELECT toUnixTimestamp(ts), model, point_id, attrs FROM as_{unique}.events "
                          "FINAL WHERE kind = 'sensor.anomaly' ORDER BY ts")
    fault_at = start + timedelta(seconds=int(np.flatnonzero(labels)[0]))
    after = [e for e in events if e[0] >= int(fault_at.timestamp())]
    assert after, f"no asset event after the fault began at {fault_at}: {events}"
    _ts, model, point, attrs = after[0]
    assert (model, point) == ("pump-1@1", "pump-1")
    channels = json.loads(attrs)["channels"]
    assert list(channels) == CHANNELS
    assert abs(sum(c["contribution"] for c in channels.values()) - 1.0) < 0.01
