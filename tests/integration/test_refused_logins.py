"""A Kafka broker that refuses a process's login, told as such by each long-running process.

The console served on without its alert feed while librdkafka printed a FAIL line every 0.35 s;
the edge said the broker "does not answer" when it had refused the edge's password. (The
worker's case is in test_worker_supervisor.py.)
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskstream.config.schema import KafkaSettings
from riskstream.edge import metrics
from riskstream.edge.forwarder import Forwarder
from riskstream.edge.outbox import Outbox
from riskstream.services import ServiceInfo

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_the_console_stops_once_when_kafka_refuses_its_login(services: ServiceInfo,
                                                             tmp_path: Path) -> None:
    env = {**os.environ, **services.env(), "RS_CENTER_PASSWORD": "a-long-Passw0rd!x"}
    base = [sys.executable, "-m", "riskstream", "center"]
    where = ["--config", str(DEMO), "--state-dir", str(tmp_path)]
    made = subprocess.run([*base, "create-admin", *where, "--username", "boss"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    env["RS_KAFKA_CENTER_PASSWORD"] = "not-the-password"
    done = subprocess.run([*base, "serve", *where, "--port", "0"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "refused the login of user 'riskstream-center'" in done.stderr
    assert "RS_KAFKA_CENTER_PASSWORD" in done.stderr and "Traceback" not in done.stderr
    assert "FAIL|rdkafka" not in done.stderr and "not-the-password" not in done.stderr


def test_the_edge_says_its_login_was_refused_not_that_kafka_is_down(
        services: ServiceInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RS_KAFKA_EDGE_PASSWORD", "not-the-password")
    settings = KafkaSettings(bootstrap=services.kafka_bootstrap, security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-512")
    forwarder = Forwarder(Outbox(tmp_path / "o.db"), settings)
    with caplog.at_level(logging.ERROR, logger="riskstream.edge.forwarder"):
        forwarder._check_reachable(timeout=3.0)
    told = [r.getMessage() for r in caplog.records if r.name == "riskstream.edge.forwarder"]
    assert metrics.KAFKA_REACHABLE._value.get() == 0
    assert len(told) == 1 and "refused the edge's login" in told[0], told
    assert "RS_KAFKA_EDGE_PASSWORD" in told[0] and "not-the-password" not in told[0]


@pytest.mark.parametrize("action", [["tail", "--idle-exit", "3"],
                                    ["ack", "a-1", "--site", "plant-east", "--by", "me"]])
def test_the_alerts_command_says_its_login_was_refused(services: ServiceInfo,
                                                       action: list[str]) -> None:
    """``alerts tail`` printed librdkafka's FAIL lines and ended 0, as if there were no alerts;
    ``alerts ack`` ended in a traceback."""
    env = {**os.environ, **services.env(), "RS_KAFKA_CENTER_PASSWORD": "not-the-password"}
    done = subprocess.run([sys.executable, "-m", "riskstream", "alerts", *action, "--config",
                           str(DEMO)], env=env, capture_output=True, text=True, timeout=90,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: Kafka at ") and "refused the login" in done.stderr
    assert "Traceback" not in done.stderr and "FAIL|rdkafka" not in done.stderr
