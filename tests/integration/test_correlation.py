"""Correlation on real Kafka and the real ClickHouse engine, through real worker processes.

A scripted scenario across three sites must produce exactly the alerts written out below —
in ``rs.alerts`` and in ClickHouse — also when the worker is killed with SIGKILL half-way
(state recovered from the changelog), when two workers share the partitions, and when
ClickHouse is down for 30 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.edge.kafka_producer import EventProducer
from riskstream.events import ActionKind, Alert, AlertAction, Event, ReadingSummary, Severity
from riskstream.launch import RiskstreamProcess, start_process, wait_for_metric
from riskstream.services import LocalServices, ServiceInfo
from riskstream.storage.clickhouse import connect
from riskstream.streams.correlator_core import partition_of
from riskstream.testing import make_event, read_topic
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration

CONFIG = """\
sites:
  - {{id: plant-a, name: Plant A, district: harbour, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tank farm}}]}}
  - {{id: plant-b, name: Plant B, district: riverside, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tank farm}}, {{id: pump-house, name: Pump house}}]}}
  - {{id: school-c, name: School C, district: harbour, kind: school,
     risk_points: [{{id: gate, name: Main gate}}]}}
kafka:
  partitions: 4
  topics: {{events: c-{u}.events, dlq: c-{u}.dlq, readings: c-{u}.readings, health: c-{u}.health,
           alerts: c-{u}.alerts, alert_actions: c-{u}.actions}}
clickhouse:
  database: c_{u}
  batch_size: 50
  batch_seconds: 0.2
worker:
  app_id: c-{u}
  session_timeout_s: 6
  tick_interval_s: 0.5
  stall_timeout_s: 10   # a stalled Faust consumer is restarted well within the waits below
  store: {store}
correlation:
  rules:
    - name: gas-and-motion
      type: co_occurrence
      severity: critical
      site_kinds: [chemical_plant]
      window_s: 60
      all_of:
        - {{kind: sensor.threshold, metric: combustible_gas, label: combustible gas}}
        - {{kind: "video.*", min_severity: info, label: camera activity}}
    - name: rise-then-alarm
      type: sequence
      scope: point
      within_s: 120
      steps:
        - {{kind: sensor.threshold, metric: combustible_gas, min_severity: warning}}
        - {{kind: sensor.threshold, metric: combustible_gas, min_severity: critical}}
    - name: gas-spread
      type: spread
      window_s: 300
      min_points: 2
      match: {{kind: sensor.threshold, metric: combustible_gas}}
    - name: repeated-intrusion
      type: count
      scope: zone
      threshold: 3
      window_s: 600
      match: {{kind: video.intrusion}}
"""

T0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)


def gas(ev_id: str, site: str, source: str, point: str, at: float, sev: Severity) -> Event:
    return make_event(event_id=ev_id, site_id=site, district="", source_id=source,
                      point_id=point, ts=T0 + timedelta(seconds=at), severity=sev,
                      attrs={"metric": "combustible_gas"})


def video(ev_id: str, site: str, kind: str, zone: str, at: float, sev: Severity) -> Event:
    return make_event(event_id=ev_id, site_id=site, district="", kind=kind, source_id=f"cam-{site}",
                      point_id=None, zone=zone, ts=T0 + timedelta(seconds=at), severity=sev,
                      value=None, unit=None, score=0.8, attrs={})


W, C, INFO = Severity.WARNING, Severity.CRITICAL, Severity.INFO
E = {
    "e1": gas("SCN-E1", "plant-a", "gas-a1", "tank-farm", 0, W),
    "e2": video("SCN-E2", "plant-a", "video.motion", "tank-farm", 20, INFO),
    "e3": gas("SCN-E3", "plant-a", "gas-a1", "tank-farm", 40, C),
    "e4": gas("SCN-E4", "plant-b", "gas-b1", "tank-farm", 0, W),
    "e5": gas("SCN-E5", "plant-b", "gas-b2", "pump-house", 100, W),
    "e6": make_event(event_id="SCN-E6", site_id="plant-b", source_id="temp-b", point_id="pump-house",
                     ts=T0 + timedelta(seconds=110), severity=W, attrs={"metric": "temperature"}),
    "e7": video("SCN-E7", "school-c", "video.intrusion", "gate", 0, W),
    "e8": video("SCN-E8", "school-c", "video.intrusion", "gate", 60, W),
    "e9": video("SCN-E9", "school-c", "video.intrusion", "gate", 120, W),
}
PHASE_1 = ["e1", "e4", "e7", "e8"]
PHASE_2 = ["e2", "e3", "e5", "e6", "e9", "e2", "e1"]  # the last two are re-deliveries

# (rule, site, district, severity, event ids, status, revision) after the actions below.
EXPECTED = {
    ("gas-and-motion", "plant-a"): ("harbour", "critical", ["SCN-E1", "SCN-E2", "SCN-E3"],
                                    "acknowledged", 3),
    ("rise-then-alarm", "plant-a"): ("harbour", "major", ["SCN-E1", "SCN-E3"], "open", 1),
    ("gas-spread", "plant-b"): ("riverside", "major", ["SCN-E4", "SCN-E5"], "open", 1),
    ("repeated-intrusion", "school-c"): ("harbour", "major", ["SCN-E7", "SCN-E8", "SCN-E9"],
                                         "resolved", 2),
}
REVISIONS_BEFORE_ACTIONS = 5  # A1 r1, A1 r2, A2 r1, A3 r1, A4 r1
ALL_REVISIONS = REVISIONS_BEFORE_ACTIONS + 2


@dataclass
class Scenario:
    cfg: Config
    config_path: Path
    workdir: Path
    env: dict[str, str]
    unique: str
    workers: list[RiskstreamProcess] = field(default_factory=list)

    def start_worker(self, role: str = "all") -> RiskstreamProcess:
        proc = start_process("worker", self.config_path, self.workdir, self.env,
                             self.workdir / "logs", ["--role", role])
        self.workers.append(proc)
        return proc

    def send(self, keys: list[str]) -> None:
        producer = EventProducer(self.cfg.kafka)
        for key in keys:
            event = E[key]
            producer.send(self.cfg.kafka.topics.events, event.site_id.encode(), event.to_json())
        assert producer.flush(30) == 0

    def alerts(self, expect: int, timeout: float = 60) -> list[Alert]:
        records = read_topic(self.cfg.kafka, self.cfg.kafka.topics.alerts, expect=expect,
                             timeout=timeout)
        return [Alert.from_json(value) for _, value in records]

    def act(self, alerts: list[Alert]) -> None:
        """Acknowledge the gas-and-motion alert, resolve the intrusion one, and one bogus."""
        from riskstream.command_center import send_action

        by_rule = {a.rule: a for a in alerts}
        for rule, kind in (("gas-and-motion", ActionKind.ACKNOWLEDGE),
                           ("repeated-intrusion", ActionKind.RESOLVE)):
            a = by_rule[rule]
            send_action(self.cfg.kafka, AlertAction(alert_id=a.alert_id, site_id=a.site_id,
                                                    action=kind, by="duty officer", comment=rule,
                                                    action_taken="checked on camera"))
        send_action(self.cfg.kafka, AlertAction(alert_id="AL-NOPE", site_id="plant-a",
                                                action=ActionKind.ACKNOWLEDGE, by="duty officer"))

    def stop(self) -> None:
        for proc in self.workers:
            proc.stop()


@pytest.fixture
def scenario(services: ServiceInfo, unique: str, workdir: Path,
             request: pytest.FixtureRequest) -> Iterator[Scenario]:
    store = getattr(request, "param", "memory://")
    path = workdir / "scenario.yaml"
    path.write_text(CONFIG.format(u=unique, store=store))
    cfg = with_env_overrides(load(path, environ={}), services.env())
    ensure_topics(cfg)
    sc = Scenario(cfg, path, workdir, services.env(), unique)
    try:
        yield sc
    finally:
        sc.stop()


def latest(alerts: list[Alert]) -> dict[tuple[str, str], Alert]:
    out: dict[tuple[str, str], Alert] = {}
    for a in alerts:
        key = (a.rule, a.site_id)
        if key not in out or a.revision > out[key].revision:
            out[key] = a
    return out


def check_final(alerts: list[Alert]) -> None:
    final = latest(alerts)
    got = {k: (a.district, a.severity.value, sorted(a.event_ids), a.status.value, a.revision)
           for k, a in final.items()}
    assert got == EXPECTED
    assert len({a.alert_id for a in alerts}) == len(EXPECTED)  # updates, never duplicates
    assert len({(a.alert_id, a.revision) for a in alerts}) == ALL_REVISIONS
    gm = final[("gas-and-motion", "plant-a")]
    assert "combustible gas" in gm.explanation and "camera activity" in gm.explanation
    assert "within 60 s" in gm.explanation
    assert gm.lifecycle.history[0].by == "duty officer"
    spread = final[("gas-spread", "plant-b")]
    assert "pump-house, tank-farm" in spread.explanation


def run_scenario(sc: Scenario, *, between_phases: Any = None) -> list[Alert]:
    sc.send(PHASE_1)
    if between_phases is not None:
        between_phases()
    sc.send(PHASE_2)
    before = sc.alerts(expect=REVISIONS_BEFORE_ACTIONS)
    assert len(before) == REVISIONS_BEFORE_ACTIONS, [(a.rule, a.revision) for a in before]
    sc.act(before)
    return sc.alerts(expect=ALL_REVISIONS)


def clickhouse_alerts(cfg: Config) -> dict[tuple[str, str], tuple[Any, ...]]:
    client = connect(cfg.clickhouse, analyst=True)
    rows = client.query(
        f"SELECT rule, site_id, district, severity, arraySort(event_ids), status, revision, "
        f"acknowledged_at IS NOT NULL, resolved_at IS NOT NULL "
        f"FROM {cfg.clickhouse.database}.alerts FINAL").result_rows
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def wait_rows(cfg: Config, sql: str, want: int, timeout: float = 60) -> int:
    client = connect(cfg.clickhouse, analyst=True)
    deadline = time.monotonic() + timeout
    got = -1
    while time.monotonic() < deadline:
        try:
            got = int(client.command(sql))
        except Exception:
            got = -1
        if got >= want:
            return got
        time.sleep(0.3)
    return got


def test_scenario_gives_exactly_the_expected_alerts(scenario: Scenario) -> None:
    worker = scenario.start_worker()
    alerts = run_scenario(scenario)
    check_final(alerts)
    assert wait_for_metric(worker, "riskstream_worker_duplicate_events_total", 2, 20) == 2
    dlq = [json.loads(v) for _, v in read_topic(scenario.cfg.kafka, scenario.cfg.kafka.topics.dlq,
                                                expect=1, timeout=20)]
    assert [d["stage"] for d in dlq] == ["worker.action"]
    assert "AL-NOPE is not open" in dlq[0]["reason"]

    db = scenario.cfg.clickhouse.database
    assert wait_rows(scenario.cfg, f"SELECT count() FROM {db}.alert_transitions FINAL",
                     ALL_REVISIONS) == ALL_REVISIONS
    stored = clickhouse_alerts(scenario.cfg)
    assert {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in stored.items()} == EXPECTED
    assert stored[("gas-and-motion", "plant-a")][5] == 1  # acknowledged_at set
    assert stored[("repeated-intrusion", "school-c")][6] == 1  # resolved_at set
    events = wait_rows(scenario.cfg, f"SELECT uniqExact(event_id) FROM {db}.events", len(E))
    assert events == len(E)  # 9 distinct events stored, the re-deliveries folded
    client = connect(scenario.cfg.clickhouse, analyst=True)
    assert client.command(f"SELECT count() FROM {db}.events FINAL") == len(E)
    actor = client.command(f"SELECT actor FROM {db}.alert_transitions FINAL "
                           f"WHERE status = 'acknowledged'")
    assert actor == "duty officer"
    enriched = client.command(f"SELECT district FROM {db}.events FINAL WHERE event_id = 'SCN-E4'")
    assert enriched == "riverside"  # filled in from the site registry

    # The command center's consumer: only harbour's alerts, latest revisions included.
    tail = subprocess.run(
        [sys.executable, "-m", "riskstream", "alerts", "tail", "-c", str(scenario.config_path),
         "--district", "harbour", "--from-beginning", "--idle-exit", "4", "--format", "jsonl"],
        env={**os.environ, **scenario.env}, capture_output=True, text=True, timeout=120,
        check=True)
    tailed = [Alert.from_json(line) for line in tail.stdout.splitlines()]
    assert {a.district for a in tailed} == {"harbour"}
    assert {(a.rule, a.revision) for a in tailed} >= {("gas-and-motion", 3),
                                                       ("repeated-intrusion", 2)}


def test_readings_reach_clickhouse_with_rollups(scenario: Scenario) -> None:
    scenario.start_worker(role="store")
    producer = EventProducer(scenario.cfg.kafka)
    start = T0.replace(second=0)
    for i in range(120):
        summary = ReadingSummary("plant-a", "gas-a1", "combustible_gas", "%LEL",
                                 start + timedelta(seconds=i), 1, float(i), float(i) + 2,
                                 float(i) + 1, float(i) + 2, 5, "tank-farm")
        producer.send(scenario.cfg.kafka.topics.readings, b"plant-a", summary.to_json())
    producer.send(scenario.cfg.kafka.topics.readings, b"plant-a", b'{"schema": 1, "count": 0}')
    assert producer.flush(30) == 0
    db = scenario.cfg.clickhouse.database
    assert wait_rows(scenario.cfg, f"SELECT count() FROM {db}.readings", 120) == 120
    client = connect(scenario.cfg.clickhouse, analyst=True)
    per_minute = client.query(
        f"SELECT minute, minMerge(vmin), maxMerge(vmax), sumMerge(vcount) FROM {db}.readings_1m "
        f"GROUP BY minute ORDER BY minute").result_rows
    assert [(r[1], r[2], r[3]) for r in per_minute] == [(0.0, 61.0, 300), (60.0, 121.0, 300)]
    dlq = [json.loads(v) for _, v in read_topic(scenario.cfg.kafka, scenario.cfg.kafka.topics.dlq,
                                                expect=1, timeout=20)]
    assert dlq[0]["stage"] == "worker.decode-reading" and dlq[0]["reason"] == "min: is required"


@pytest.mark.parametrize("scenario", ["rocksdb://"], indirect=True)
def test_worker_killed_with_sigkill_recovers_state_from_changelog(scenario: Scenario) -> None:
    worker = scenario.start_worker()

    def crash_and_restart() -> None:
        assert wait_for_metric(worker, "riskstream_worker_records_consumed_total",
                               len(PHASE_1), 30, agent="correlate") == len(PHASE_1)
        time.sleep(2.5)  # past a commit interval: the restart must rely on recovered state
        worker.kill()
        # A fresh state folder: the table is rebuilt from its changelog topic alone.
        scenario.workdir = scenario.workdir / "after-crash"
        scenario.start_worker()

    alerts = run_scenario(scenario, between_phases=crash_and_restart)
    check_final(alerts)
    # e1 was applied before the crash and is re-sent after it: only the recent-event-ids
    # table, recovered from its changelog, can say so (the other duplicate is e2 twice).
    restarted = scenario.workers[-1]
    assert wait_for_metric(restarted, "riskstream_worker_duplicate_events_total", 2, 20) == 2


def test_two_workers_give_the_same_alerts_as_one(scenario: Scenario) -> None:
    sites = {e.site_id for e in E.values()}
    assert len({partition_of(s, scenario.cfg.kafka.partitions) for s in sites}) == 3
    first = scenario.start_worker()
    second = scenario.start_worker()
    alerts = run_scenario(scenario)
    check_final(alerts)
    consumed = [w.metric("riskstream_worker_records_consumed_total", agent="correlate")
                for w in (first, second)]
    assert all(c > 0 for c in consumed), consumed  # both really took part


def test_clickhouse_down_for_30_s_loses_and_doubles_nothing(
    scenario: Scenario, services: ServiceInfo
) -> None:
    stack = LocalServices(Path(services.state_dir))
    worker = scenario.start_worker(role="store")
    db = scenario.cfg.clickhouse.database
    scenario.send(PHASE_1)
    assert wait_rows(scenario.cfg, f"SELECT count() FROM {db}.events", len(PHASE_1)) == len(PHASE_1)
    stack.stop("clickhouse")
    try:
        scenario.send(PHASE_2)
        time.sleep(30)
        assert worker.alive()
        assert worker.metric("riskstream_worker_sink_retries_total") >= 1
        assert worker.metric("riskstream_worker_sink_up", table=f"{db}.events") == 0
    finally:
        stack.start("clickhouse")
    assert wait_rows(scenario.cfg, f"SELECT uniqExact(event_id) FROM {db}.events", len(E)) == len(E)
    time.sleep(1.0)
    client = connect(scenario.cfg.clickhouse, analyst=True)
    raw = client.command(f"SELECT count() FROM {db}.events")
    redelivered = 2  # PHASE_2 carries two re-sent events, folded by event_id
    assert len(E) <= raw <= len(E) + redelivered  # failed attempts stored no extra copies
    assert client.command(f"SELECT count() FROM {db}.events FINAL") == len(E)
    assert wait_for_metric(worker, "riskstream_worker_sink_up", 1, 10, table=f"{db}.events") == 1
