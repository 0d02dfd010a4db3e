"""`riskstream services up|status|env|down` starts and stops real processes by PID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskstream.services.process import pid_alive, port_open, stop_pid

pytestmark = pytest.mark.integration


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "riskstream", *args], capture_output=True,
                          text=True, timeout=180, check=False, env=os.environ.copy())


def test_services_lifecycle_by_pid(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert _cli("services", "status", "--state-dir", state).returncode == 1
    up = _cli("services", "up", "--state-dir", state)
    assert up.returncode == 0, up.stderr
    assert "kafka" in up.stdout and "broker.log" in up.stdout and "mosquitto.log" in up.stdout
    try:
        status = _cli("services", "status", "--state-dir", state)
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["kafka"]["accepting"] and report["mosquitto"]["accepting"]
        pids = [report[s]["pid"] for s in ("kafka", "mosquitto", "clickhouse")]
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in _cli("services", "env", "--state-dir", state).stdout.splitlines())
        assert env["RS_KAFKA_BOOTSTRAP"] == report["kafka"]["bootstrap"]
        assert env["RS_MQTT_PASSWORD"] and env["RS_CLICKHOUSE_DSN"].startswith("http://")
        assert report["clickhouse"]["accepting"]
        assert oct((tmp_path / "state" / "services.json").stat().st_mode & 0o777) == "0o600"
        again = _cli("services", "up", "--state-dir", state)  # idempotent: same processes
        assert f"pid {pids[0]}" in again.stdout
        # only Mosquitto died: only Mosquitto comes back, on its port, with its password
        assert stop_pid(report["mosquitto"]["pid"])
        assert _cli("services", "up", "--state-dir", state).returncode == 0
        after = json.loads(_cli("services", "status", "--state-dir", state).stdout)
        assert [after[s]["pid"] for s in ("kafka", "clickhouse")] == [pids[0], pids[2]]
        assert after["mosquitto"]["pid"] != pids[1] and after["mosquitto"]["accepting"]
        assert after["mosquitto"]["port"] == report["mosquitto"]["port"]
        env_after = dict(line.removeprefix("export ").split("=", 1) for line in
                         _cli("services", "env", "--state-dir", state).stdout.splitlines())
        assert env_after == env
        pids[1] = after["mosquitto"]["pid"]
        # without `eval "$(riskstream services env)"` the CLI finds the running stack itself
        bare = {k: v for k, v in os.environ.items() if not k.startswith("RS_")}
        found = subprocess.run([sys.executable, "-m", "riskstream", "sql", "SELECT 40 + 2 AS x"],
                               capture_output=True, text=True, timeout=120, check=False,
                               env={**bare, "RISKSTREAM_HOME": state})
        assert found.returncode == 0 and "42" in found.stdout, found.stderr
        assert "using the local services recorded in" in found.stderr
    finally:
        down = _cli("services", "down", "--state-dir", state)
    assert down.returncode == 0
    assert all(s in down.stdout for s in ("kafka", "mosquitto", "clickhouse"))
    assert not any(pid_alive(pid) for pid in pids)
    host, port = report["kafka"]["bootstrap"].rsplit(":", 1)
    assert not port_open(host, int(port))
    assert "nothing was running" in _cli("services", "down", "--state-dir", state).stdout


def test_down_then_up_keeps_the_brokers_users(tmp_path: Path) -> None:
    """The broker's data keeps the users it was formatted with; `services up` after `services
    down` (or after the demo, which ends with down) generated new passwords, and every Kafka
    client was refused: "invalid credentials with SASL mechanism SCRAM-SHA-512"."""
    state = str(tmp_path / "state")
    config = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
    assert _cli("services", "up", "--state-dir", state).returncode == 0
    try:
        assert _cli("services", "down", "--state-dir", state).returncode == 0
        up = _cli("services", "up", "--state-dir", state)
        assert up.returncode == 0, up.stderr
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in _cli("services", "env", "--state-dir", state).stdout.splitlines())
        created = subprocess.run([sys.executable, "-m", "riskstream", "topics", "create", "-c", str(config)],
                                 capture_output=True, text=True, timeout=120, check=False,
                                 env={**os.environ, **env})
        assert created.returncode == 0, created.stderr[-2000:]
        assert "Traceback" not in created.stderr
    finally:
        _cli("services", "down", "--state-dir", state)
