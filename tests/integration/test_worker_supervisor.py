"""The worker supervisor and its Faust child: killing the supervisor takes the child with it
(it once kept consuming, orphaned), and a crashed child is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.launch import start_process
from riskstream.services import ServiceInfo
from riskstream.services.process import pid_alive
from riskstream.testing import wait_for
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration

CONFIG = """\
sites:
  - {{id: plant-a, name: Plant A, district: d, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tank farm}}]}}
kafka:
  partitions: 2
  topics: {{events: s-{u}.events, dlq: s-{u}.dlq, readings: s-{u}.readings, health: s-{u}.health,
           alerts: s-{u}.alerts, alert_actions: s-{u}.actions}}
clickhouse:
  database: s_{u}
worker:
  app_id: s-{u}
  session_timeout_s: 6
"""


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_the_faust_child_dies_with_its_supervisor_and_a_crashed_child_is_replaced(
    services: ServiceInfo, unique: str, tmp_path: Path
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(CONFIG.format(u=unique))
    ensure_topics(with_env_overrides(load(path, environ={}), services.env()))
    worker = start_process("worker", path, tmp_path, services.env(), tmp_path / "logs")
    try:
        (child,) = children(worker.pid)
        os.kill(child, signal.SIGKILL)  # the child crashes: the supervisor starts a fresh one
        assert wait_for(lambda: children(worker.pid) and children(worker.pid) != [child], 30)
        (fresh,) = children(worker.pid)
        assert "starting a fresh one" in worker.log.read_text()
        os.kill(worker.pid, signal.SIGKILL)  # the supervisor dies: the child must not live on
        assert wait_for(lambda: not pid_alive(fresh), 15), "the Faust child outlived its supervisor"
    finally:
        worker.stop()


def test_a_kafka_outage_does_not_flood_the_worker_log(services: ServiceInfo, unique: str,
                                                      tmp_path: Path) -> None:
    """A 36 s outage once wrote 269,384 ERROR lines (28 MB) to the worker log."""
    from riskstream.services import LocalServices

    path = tmp_path / "w.yaml"
    path.write_text(CONFIG.format(u=unique))
    ensure_topics(with_env_overrides(load(path, environ={}), services.env()))
    worker = start_process("worker", path, tmp_path, services.env(), tmp_path / "logs")
    stack = LocalServices(Path(services.state_dir))
    try:
        before = worker.log.stat().st_size
        stack.stop("kafka")
        try:
            time.sleep(36)
        finally:
            stack.start("kafka")
        during = worker.log.read_bytes()[before:]
        lines = during.count(b"\n")
        assert lines < 2000 and len(during) < 1_000_000, f"{lines} lines, {len(during)} bytes"
        assert b"similar lines suppressed" in during or lines < 200
        assert wait_for(lambda: worker.alive(), 5)
    finally:
        worker.stop()


def run_worker_once(services: ServiceInfo, unique: str, tmp_path: Path,
                    **env: str) -> subprocess.CompletedProcess[str]:
    """``riskstream worker`` (supervised, as users run it) with ``env`` over the stack's."""
    path = tmp_path / "w.yaml"
    path.write_text(CONFIG.format(u=unique))
    full = {**os.environ, **services.env(), "RS_WORKER_METRICS_PORT": "0", **env}
    return subprocess.run([sys.executable, "-m", "riskstream", "worker", "--config", str(path),
                           "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=90, env=full, check=False)


def test_a_worker_whose_clickhouse_password_is_refused_stops_once_with_the_reason(
    services: ServiceInfo, unique: str, tmp_path: Path
) -> None:
    """It retried the refused password 30 times (about 2.5 min), ended in the driver's
    traceback, and its supervisor started a fresh child, forever. A refused password stays
    refused: the child stops at once, in one line, and the supervisor does not restart it."""
    done = run_worker_once(services, unique, tmp_path, RS_CLICKHOUSE_PASSWORD="not-the-password")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("refused the credentials") == 1, done.stderr
    assert "RS_CLICKHOUSE_PASSWORD" in done.stderr and "not restarting" in done.stderr
    assert "Traceback" not in done.stderr and "not-the-password" not in done.stderr
    assert "retry" not in done.stderr


def test_sql_tells_a_query_error_in_one_line(services: ServiceInfo) -> None:
    env = {**os.environ, **services.env()}
    done = subprocess.run([sys.executable, "-m", "riskstream", "sql", "--analyst", "SELEC 1"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ClickHouse at http://127.0.0.1:")
    assert "SYNTAX_ERROR" in done.stderr or "Syntax error" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_whose_kafka_password_is_refused_stops_once_with_the_reason(
    services: ServiceInfo, unique: str, tmp_path: Path
) -> None:
    """Faust's consumer failed to bootstrap on the refused login, the child exited 1 with a
    traceback, and the supervisor started a fresh one, forever. The broker is asked first."""
    done = run_worker_once(services, unique, tmp_path,
                           RS_KAFKA_WORKER_PASSWORD="not-the-password")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("refused the login of user 'riskstream-worker'") == 1, done.stderr
    assert "RS_KAFKA_WORKER_PASSWORD" in done.stderr and "not restarting" in done.stderr
    assert "Traceback" not in done.stderr and "not-the-password" not in done.stderr
