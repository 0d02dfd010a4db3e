"""README Operations walked with clients nobody on the team wrote: Debian's kcat and
mosquitto_pub/sub, and the riskstream CLI as a user types it.

On a stack set up in README order (topics create, mqtt accounts, worker, edge): the first events
raise their alert at once (no start-up race), an ack from kcat's own partitioner is applied,
`alerts ack` reports what became of an action, forged traffic from principals that may not
send it is refused by Kafka and Mosquitto, every message matches its published schema, and the
metrics answer curl only with the token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from riskstream import schemas
from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.events import new_event_id
from riskstream.launch import RiskstreamProcess, start_process, wait_for_metric
from riskstream.services import LocalServices, ServiceInfo

pytestmark = pytest.mark.integration

CONFIG = """\
sites:
  - {{id: plant-a, name: Plant A, district: harbour, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tank farm}}]}}
  - {{id: plant-b, name: Plant B, district: riverside, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tank farm}}]}}
sensors:
  - {{id: gas-a, site: plant-a, point: tank-farm, metric: combustible_gas, unit: '%LEL',
     topic: x{u}/plant-a/gas, thresholds: {{warning: 25, alarm: 50}}}}
  - {{id: gas-b, site: plant-b, point: tank-farm, metric: combustible_gas, unit: '%LEL',
     topic: x{u}/plant-b/gas, thresholds: {{warning: 25, alarm: 50}}}}
kafka:
  partitions: 4
  topics: {{events: x-{u}.events, dlq: x-{u}.dlq, readings: x-{u}.readings, health: x-{u}.health,
           alerts: x-{u}.alerts, alert_actions: x-{u}.actions}}
mqtt:
  username: riskstream-edge
  client_id: x-{u}
clickhouse:
  database: x_{u}
worker:
  app_id: x-{u}
  session_timeout_s: 6
  tick_interval_s: 0.5
correlation:
  rules:
    - name: two-gas-alarms
      type: count
      severity: critical
      scope: site
      threshold: 2
      window_s: 600
      match: {{kind: sensor.threshold, metric: combustible_gas, min_severity: critical}}
"""


@dataclass
class Stack:
    services: ServiceInfo
    cfg: Config
    config: Path
    env: dict[str, str]
    worker: RiskstreamProcess
    edge: RiskstreamProcess

    def kcat(self, role: str, *args: str, data: bytes | None = None,
             password: str | None = None, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
        """Debian's kcat as a riskstream principal (SASL/PLAIN: its librdkafka 2.0 cannot do
        SCRAM against Kafka 4), or anonymous when ``role`` is empty."""
        auth: list[str] = []
        if role:
            pw = password if password is not None else self.env[f"RS_KAFKA_{role.upper()}_PASSWORD"]
            auth = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
                    "-X", f"sasl.username=riskstream-{role}", "-X", f"sasl.password={pw}"]
        return subprocess.run(["kcat", "-b", self.services.kafka_bootstrap, *auth, *args],
                              input=data, capture_output=True, timeout=timeout, check=False)

    def alerts(self) -> list[dict[str, Any]]:
        done = self.kcat("center", "-C", "-t", self.cfg.kafka.topics.alerts, "-o", "beginning",
                         "-e", "-q", "-f", "%s\n")
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def wait_alert(self, check: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [a for a in self.alerts() if check(a)]
            if found:
                return found[-1]
            time.sleep(0.5)
        raise AssertionError(f"no matching alert within {timeout} s: {self.alerts()[-3:]}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "riskstream", *args, "-c", str(self.config)],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, **self.env})

    def mqtt_account(self, user: str) -> str:
        return LocalServices(Path(self.services.state_dir)).mqtt_password(user)


def _event(site: str, source: str) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({
        "kind": "sensor.threshold", "site_id": site, "source_id": source, "ts": now,
        "detected_at": now, "severity": "critical", "score": 1.0, "point_id": "tank-farm", "value": 60.0,
        "unit": "%LEL", "model": "static-threshold@1",
        "attrs": {"level": "alarm", "metric": "combustible_gas"}, "event_id": new_event_id(),
        "schema": 1}).encode()


@pytest.fixture
def stack(services: ServiceInfo, unique: str, tmp_path: Path) -> Iterator[Stack]:
    config = tmp_path / "x.yaml"
    config.write_text(CONFIG.format(u=unique))
    env = services.env()
    cfg = with_env_overrides(load(config, environ={}), env)
    s = Stack(services, cfg, config, env, None, None)  # type: ignore[arg-type]
    state = ["--state-dir", services.state_dir]
    for step in (("topics", "create"), ("mqtt", "accounts", *state)):  # README order
        done = s.cli(*step)
        assert done.returncode == 0, done.stderr
    s.worker = start_process("worker", config, tmp_path, env, tmp_path / "logs")
    s.edge = start_process("edge", config, tmp_path, env, tmp_path / "logs")
    try:
        yield s
    finally:
        s.edge.stop()
        s.worker.stop()


def test_readme_walk_with_kcat_and_mosquitto_clients(stack: Stack) -> None:
    topics = stack.cfg.kafka.topics
    # 1. the first events, sent by kcat right after the worker said Ready, raise their alert
    #    (it crashed the correlator and committed past them when the changelog was not known)
    for _ in range(2):
        done = stack.kcat("edge", "-P", "-t", topics.events, "-k", "plant-a", data=_event("plant-a", "gas-a"))
        assert done.returncode == 0 and b"ERROR" not in done.stderr, done.stderr
    alert = stack.wait_alert(lambda a: a["site_id"] == "plant-a" and a["status"] == "open")
    assert alert["rule"] == "two-gas-alarms" and alert["district"] == "harbour"

    # 4. an ack produced by kcat with its own partitioner (not the site's partition) is
    #    applied, and so is the next one: per-partition replay detection drops neither
    ack = {"alert_id": alert["alert_id"], "site_id": "plant-a", "action": "acknowledge",
           "by": "kcat", "comment": "seen", "action_id": new_event_id(), "schema": 1,
           "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    assert stack.kcat("center", "-P", "-t", topics.alert_actions, "-k", "plant-a",
                      data=json.dumps(ack).encode()).returncode == 0
    stack.wait_alert(lambda a: a["alert_id"] == alert["alert_id"] and a["status"] == "acknowledged")
    comment = {**ack, "action": "comment", "comment": "crew sent", "action_id": new_event_id()}
    stack.kcat("center", "-P", "-t", topics.alert_actions, "-k", "plant-a", "-p", "1",
               data=json.dumps(comment).encode())
    stack.wait_alert(lambda a: a["alert_id"] == alert["alert_id"]
                     and (a["lifecycle"]["last_action"] or {}).get("comment") == "crew sent")

    # 15. the CLI says what became of an action, with the exit status to match
    done = stack.cli("alerts", "comment", alert["alert_id"], "--site", "plant-a", "--comment", "ok")
    assert done.returncode == 0 and "applied" in done.stdout, done.stderr
    done = stack.cli("alerts", "ack", "AL-NO-SUCH-ALERT", "--site", "plant-a")
    assert done.returncode == 1 and "refused" in done.stderr and "AL-NO-SUCH-ALERT" in done.stderr
    done = stack.cli("alerts", "ack", alert["alert_id"], "--site", "plant-b")  # wrong site
    assert done.returncode == 1 and "refused" in done.stderr
    done = stack.cli("alerts", "ack", alert["alert_id"], "--site", "plant-a")  # already acked
    assert done.returncode == 1 and "already acknowledged" in done.stderr

    # 11. forged Kafka traffic: only the command center may act on alerts; anonymous and
    #     wrong-password clients get nothing
    resolve = {**ack, "action": "resolve", "by": "forger", "action_id": new_event_id()}
    forged = stack.kcat("edge", "-P", "-t", topics.alert_actions, "-k", "plant-a",
                        data=json.dumps(resolve).encode())
    assert b"Topic authorization failed" in forged.stderr
    assert b"Topic authorization failed" in stack.kcat(
        "center", "-P", "-t", topics.events, "-k", "plant-a", data=_event("plant-a", "gas-a")).stderr
    assert b"Topic authorization failed" in stack.kcat(
        "edge", "-C", "-t", topics.alerts, "-e", "-o", "beginning").stderr
    anonymous = stack.kcat("", "-P", "-t", topics.events, data=_event("plant-a", "gas-a"), timeout=30)
    assert anonymous.returncode != 0 or b"ERROR" in anonymous.stderr
    wrong = stack.kcat("edge", "-P", "-t", topics.events, data=b"{}", password="guess")
    assert b"Authentication failed" in wrong.stderr
    time.sleep(3)
    assert not [a for a in stack.alerts() if a["status"] == "resolved"]

    # 12. MQTT: a gateway publishes for its own site only; the edge account reads, never
    #     publishes, and sees no $SYS; a wrong password is refused and logged
    port = str(stack.services.mqtt_port)
    gw_a = stack.mqtt_account("gw-plant-a")

    def pub(user: str, password: str, topic: str, value: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-u", user, "-P",
                               password, "-q", "1", "-t", topic, "-m", json.dumps({"value": value})],
                              capture_output=True, text=True, timeout=20, check=False)

    u = stack.cfg.sensors[0].topic.split("/")[0]
    assert pub("gw-plant-a", gw_a, f"{u}/plant-a/gas", 60).returncode == 0
    pub("gw-plant-a", gw_a, f"{u}/plant-b/gas", 60)  # another site's topic: dropped by the broker
    pub("riskstream-edge", stack.env["RS_MQTT_PASSWORD"], f"{u}/plant-b/gas", 60)
    assert wait_for_metric(stack.edge, "riskstream_edge_readings_total", 1, 20) == 1
    time.sleep(2)
    assert stack.edge.metric("riskstream_edge_readings_total") == 1  # only plant-a's reading
    sys_topics = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-u",
                                 "riskstream-edge", "-P", stack.env["RS_MQTT_PASSWORD"], "-t",
                                 "$SYS/#", "-W", "3"], capture_output=True, text=True, check=False)
    assert sys_topics.stdout == ""
    refused = pub("gw-plant-a", "guess", f"{u}/plant-a/gas", 60)
    assert refused.returncode != 0 and "not authorised" in refused.stderr.lower()
    log = Path(stack.services.mqtt_log).read_text()
    assert "not authorised" in log and gw_a not in log

    # 14. every message on every topic, as kcat reads it, matches the published schema
    seen = {}
    for role, name in schemas.BY_TOPIC.items():
        topic = getattr(topics, role)
        done = stack.kcat("admin", "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n")
        messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        validator = Draft202012Validator(schemas.load(name))
        for message in messages:
            validator.validate(message)
        seen[role] = len(messages)
    assert all(seen[r] for r in ("events", "alerts", "alert_actions", "dlq")), seen

    # 16. the edge's and the worker's metrics answer curl only with the token (they answered
    #     anyone on the box)
    for proc in (stack.edge, stack.worker):
        url = f"http://127.0.0.1:{proc.metrics_port}/metrics"
        for headers in ([], ["-H", "Authorization: Bearer guess"]):
            refused = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                      *headers, url], capture_output=True, text=True, check=False)
            assert refused.stdout == "401", (proc.role, headers)
        bearer = f"Authorization: Bearer {stack.env['RS_METRICS_TOKEN']}"
        scraped = subprocess.run(["curl", "-sf", "-H", bearer, url], capture_output=True,
                                 text=True, check=False)
        assert scraped.returncode == 0 and f"riskstream_{proc.role}_" in scraped.stdout
