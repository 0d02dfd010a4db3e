"""Fault runner: does anything get lost or doubled when parts of the stack fail?

Each scenario runs two correlate+store worker groups on the same rs.events stream: the
*reference* group is left alone, the *disturbed* one (or the whole stack) gets the fault.
Events are produced as the edge sends them (per-site records, idempotent producer) at a steady
rate while the fault happens. Afterwards, per run: events in, distinct in Kafka, distinct in
each group's ClickHouse (FINAL), events that reached an alert, lost (in Kafka, not in the
disturbed group's ClickHouse), revisions published twice with different content, and whether
the disturbed group's alerts (ids, final revisions, statuses, contributing events) equal the
reference's. Goal: 0 lost, 0 conflicting, identical alerts, in every run. Also how many lines
the run's workers logged, and how many of them librdkafka printed raw (not through our logging,
where repeats are capped).

    .venv/bin/python -m benchmarks.faults                 # every scenario, 5 runs each
    .venv/bin/python -m benchmarks.faults --runs 1 --scenarios worker-sigkill,burst-100k

Results: benchmarks/results/faults.json (every run, and a summary per scenario).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, local_services, report, save, wait_until, write_config
from riskstream.config.schema import Config
from riskstream.events import Alert, Event, Severity, encode_event_batch
from riskstream.kafka_offsets import GroupOffsets
from riskstream.kafka_settings import librdkafka_config
from riskstream.launch import RiskstreamProcess, start_process
from riskstream.services import LocalServices, ServiceInfo
from riskstream.storage.clickhouse import connect
from riskstream.streams.agents.correlator import PRODUCER_HEADER
from riskstream.testing import ReadRecord, read_topic, read_topic_records
from riskstream.topics import ensure_topics

RULES = """
correlation:
  rules:
    - {name: gas-spread, type: spread, distinct: source_id, min_points: 2, window_s: 30,
       match: {kind: sensor.threshold, metric: combustible_gas, min_severity: warning}}
    - {name: repeated-alarm, type: count, scope: point, threshold: 3, window_s: 60,
       match: {kind: sensor.threshold, metric: combustible_gas, min_severity: critical}}
"""


SENSORS = 20


def config_text(u: str, group: str, sites: list[str]) -> str:
    site_lines = "\n".join(
        f"  - {{id: {s}, name: {s}, district: d{i % 5}, kind: chemical_plant, "
        f"risk_points: [{{id: area, name: Area}}]}}" for i, s in enumerate(sites))
    sensor_lines = "\n".join(
        f"  - {{id: gas-{i:02d}, site: {sites[i % len(sites)]}, point: area, "
        f"metric: combustible_gas, unit: '%LEL', topic: f{u}/gas-{i:02d}, "
        f"thresholds: {{warning: 25, alarm: 50}}}}" for i in range(SENSORS))
    return f"""sites:
{site_lines}
sensors:
{sensor_lines}
mqtt:
  username: riskstream-edge
  client_id: edge-{u}
edge:
  outbox_max_mb: 16
kafka:
  partitions: 4
  topics: {{events: f-{u}.events, dlq: {group}-{u}.dlq, readings: f-{u}.readings,
           health: f-{u}.health, alerts: {group}-{u}.alerts, alert_actions: f-{u}.actions}}
clickhouse:
  database: {group}_{u}
  batch_size: 2000
  batch_seconds: 0.5
worker:
  app_id: {group}-{u}
  session_timeout_s: 6
  stall_timeout_s: 30
{RULES}"""


def scenario_events(n: int, sites: list[str], seed: int) -> list[Event]:
    """Gas threshold events over the sites' devices; every 50th is re-sent (as an edge does)."""
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    out: list[Event] = []
    for i in range(n):
        if i % 50 == 49:
            out.append(out[-25])
            continue
        site = sites[(i * 7 + seed) % len(sites)]
        sev = Severity.CRITICAL if (i + seed) % 3 == 0 else Severity.WARNING
        out.append(Event(kind="sensor.threshold", site_id=site, source_id=f"gas-{i % 5}",
                         point_id="area", ts=t0 + timedelta(milliseconds=20 * i), severity=sev,
                         score=1.0 if sev is Severity.CRITICAL else 0.5, value=60.0, unit="%LEL",
                         attrs={"metric": "combustible_gas", "level": sev.value}))
    return out


class Producer:
    """The edge's side: per-site records at a steady rate from a thread."""

    def __init__(self, cfg: Config, events: list[Event], rate: float, per_record: int = 20) -> None:
        from confluent_kafka import Producer as KafkaProducer

        self._producer = KafkaProducer({
            **librdkafka_config(cfg.kafka, "edge"), "enable.idempotence": True, "acks": "all",
            "partitioner": "murmur2_random", "linger.ms": 5, "message.timeout.ms": 600_000,
            "queue.buffering.max.messages": 2_000_000})
        self._topic, self._events, self._rate = cfg.kafka.topics.events, events, rate
        self._per_record = per_record
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Producer:
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        for i in range(0, len(self._events), self._per_record):
            chunk = self._events[i:i + self._per_record]
            by_site: dict[str, list[Event]] = {}
            for e in chunk:
                by_site.setdefault(e.site_id, []).append(e)
            for site, evs in by_site.items():
                value = evs[0].to_json() if len(evs) == 1 else encode_event_batch(evs)
                while True:
                    try:
                        self._producer.produce(self._topic, key=site.encode(), value=value)
                        break
                    except BufferError:
                        self._producer.poll(0.05)
            self.sent += len(chunk)
            self._producer.poll(0)
            delay = started + self.sent / self._rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def join(self) -> None:
        self._thread.join()
        if self._producer.flush(600):
            raise RuntimeError("events not delivered to Kafka within 10 minutes")


class EdgeLoad:
    """Readings over MQTT to a real edge agent; each one changes its sensor's level, so each
    makes exactly one event (as in tests/integration/test_edge_durability.py)."""

    def __init__(self, run: Run, n: int, rate: float) -> None:
        from riskstream.testing import config_publisher

        self._client = config_publisher(run.info.state_dir, run.dis.cfg, run.info.env(),
                                        f"load-{run.u}")
        self._u, self._n, self._rate = run.u, n, rate
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> EdgeLoad:
        self._thread.start()
        return self

    def _run(self) -> None:
        started, infos = time.monotonic(), []
        for i in range(self._n):
            value = 30.0 if (i // SENSORS) % 2 == 0 else 10.0
            infos.append(self._client.publish(f"f{self._u}/gas-{i % SENSORS:02d}",
                                              json.dumps({"value": value}).encode(), qos=1))
            self.sent = i + 1
            delay = started + self.sent / self._rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for info in infos:
            info.wait_for_publish(60)

    def join(self) -> None:
        self._thread.join()
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class Group:
    name: str
    path: Path
    cfg: Config
    workers: list[RiskstreamProcess] = field(default_factory=list)
    restarts: int = 0


@dataclass
class Run:
    info: ServiceInfo
    scratch: Path
    u: str
    ref: Group
    dis: Group
    events: list[Event]
    started: list[RiskstreamProcess] = field(default_factory=list)
    edge: RiskstreamProcess | None = None

    def start_edge(self) -> RiskstreamProcess:
        self.edge = start_process("edge", self.dis.path, self.scratch / f"edge-{self.u}",
                                  self.info.env(), self.scratch / "logs")
        return self.edge

    def start_worker(self, group: Group) -> RiskstreamProcess:
        folder = self.scratch / f"{group.name}-{self.u}-{len(group.workers) + group.restarts}"
        proc = start_process("worker", group.path, folder, self.info.env(), self.scratch / "logs")
        group.workers.append(proc)
        self.started.append(proc)
        return proc

    def kill_worker(self, group: Group, index: int = 0) -> None:
        group.workers.pop(index).kill()
        group.restarts += 1

    def stack(self) -> LocalServices:
        return LocalServices(Path(self.info.state_dir))


def caught_up(group: Group, n_partitions: int) -> bool:
    offsets = GroupOffsets(group.cfg.kafka, group.cfg.worker.app_id)
    try:
        parts = [(group.cfg.kafka.topics.events, p) for p in range(n_partitions)]
        ends, done = offsets.ends(parts, 10), offsets.committed(parts, 10)
        return all(done[tp] >= end for tp, end in ends.items())
    except Exception as exc:  # e.g. NOT_COORDINATOR right after a broker restart: ask again
        print(f"  offset probe of {group.name}: {type(exc).__name__}: {exc}"[:200], flush=True)
        return False
    finally:
        offsets.close()


def clickhouse_distinct(group: Group) -> tuple[int, int]:
    client = connect(group.cfg.clickhouse, analyst=True)
    db = group.cfg.clickhouse.database
    try:
        row = client.query(f"SELECT uniqExact(event_id), count() FROM {db}.events").result_rows[0]
        return int(row[0]), int(row[1])
    except Exception:  # the table may not exist yet
        return 0, 0


def final_alerts(group: Group) -> tuple[dict[str, tuple[Any, ...]], int, list[dict[str, Any]]]:
    """Latest revision per alert; (alerts, revisions read, conflicting (id, revision) pairs,
    each with which worker published either body, when, and which fields differ)."""
    records = read_topic_records(group.cfg.kafka, group.cfg.kafka.topics.alerts, expect=1,
                                 timeout=20, settle=3.0)
    seen: dict[tuple[str, int], tuple[dict[str, Any], ReadRecord]] = {}
    conflicts: list[dict[str, Any]] = []
    latest: dict[str, Alert] = {}
    for rec in records:
        alert = Alert.from_json(rec.value)
        key = (alert.alert_id, alert.revision)
        body = {**alert.to_dict(), "updated_at": None, "attrs": None}
        if key in seen and seen[key][0] != body:
            first_body, first = seen[key]
            conflicts.append({
                "alert_id": alert.alert_id, "revision": alert.revision,
                "differs": sorted(k for k in body if body[k] != first_body.get(k)),
                "published_by": [_producer(first), _producer(rec)],
                "published_ms": [first.timestamp_ms, rec.timestamp_ms]})
        seen[key] = (body, rec)
        if alert.alert_id not in latest or alert.revision > latest[alert.alert_id].revision:
            latest[alert.alert_id] = alert
    return ({a.alert_id: (a.revision, a.status.value, a.severity.value, tuple(sorted(a.event_ids)))
             for a in latest.values()}, len(records), conflicts)


def _producer(rec: ReadRecord) -> str:
    return rec.headers.get(PRODUCER_HEADER, b"?").decode("utf-8", "replace")


# -- scenarios: what happens to the disturbed side while events flow ---------------------------

def worker_sigkill(run: Run, producer: Producer, kills: int = 3) -> None:
    for _ in range(kills):
        wait_until(lambda: producer.sent > 0, 60)
        time.sleep(3)
        run.kill_worker(run.dis)
        time.sleep(1)
        run.start_worker(run.dis)


def rebalance(run: Run, producer: Producer) -> None:
    time.sleep(3)
    run.start_worker(run.dis)  # a second worker joins mid-stream
    time.sleep(6)
    run.dis.workers.pop(0).stop()  # and the first leaves


def service_down(service: str, hard: bool) -> Callable[[Run, Producer], None]:
    def fault(run: Run, producer: Producer) -> None:
        import signal

        from riskstream.services.process import stop_pid

        time.sleep(3)
        info = run.stack().load()
        assert info is not None
        stop_pid(info.pid(service), timeout=0 if hard else 30, sig=signal.SIGKILL if hard
                 else signal.SIGTERM)
        time.sleep(30)
        run.stack().start(service)
    return fault


def nothing(run: Run, producer: Any) -> None:
    return None


def edge_sigkill(run: Run, load: Any, kills: int = 2) -> None:
    for _ in range(kills):
        time.sleep(3)
        assert run.edge is not None
        run.edge.kill()
        time.sleep(2)  # readings queue at the broker for the edge's persistent session
        run.start_edge()


def edge_disk_full(run: Run, load: Any) -> None:
    """The outbox's files may not grow for 8 s (a file-size limit on the running edge)."""
    import subprocess

    time.sleep(3)
    assert run.edge is not None
    subprocess.run(["prlimit", "--pid", str(run.edge.pid), "--fsize=40000:unlimited"], check=True)
    time.sleep(8)
    subprocess.run(["prlimit", "--pid", str(run.edge.pid), "--fsize=unlimited"], check=True)


@dataclass(frozen=True)
class Scenario:
    name: str
    events: int
    rate: float
    sites: int
    fault: Callable[[Run, Any], None]
    before_workers: bool = False  # produce everything first (a backlog)
    edge: bool = False  # readings over MQTT through a real edge agent instead of events


SCENARIOS = [
    Scenario("worker-sigkill-x3", 12_000, 600, 20, worker_sigkill),
    Scenario("rebalance-two-workers", 12_000, 600, 20, rebalance),
    Scenario("kafka-down-30s-sigterm", 8_000, 300, 20, service_down("kafka", hard=False)),
    Scenario("kafka-down-30s-sigkill", 8_000, 300, 20, service_down("kafka", hard=True)),
    Scenario("clickhouse-down-30s", 8_000, 300, 20, service_down("clickhouse", hard=False)),
    Scenario("burst-100k-3-sites", 100_000, 10_000, 3, nothing),
    Scenario("backlog-40k-one-site", 40_000, 50_000, 1, nothing, before_workers=True),
    Scenario("edge-sigkill-x2", 6_000, 300, 4, edge_sigkill, edge=True),
    Scenario("edge-disk-full-8s", 6_000, 300, 4, edge_disk_full, edge=True),
]


def run_once(info: ServiceInfo, scratch: Path, scenario: Scenario, seed: int) -> dict[str, Any]:
    u = f"{scenario.name[:3]}{seed}{time.time_ns() % 100_000}"
    sites = [f"site-{i:02d}" for i in range(scenario.sites)]
    groups = []
    for name in ("ref", "dis"):
        path, cfg = write_config(scratch, config_text(u, name, sites), info)
        ensure_topics(cfg)
        groups.append(Group(name, path, cfg))
    run = Run(info, scratch, u, groups[0], groups[1], scenario_events(scenario.events, sites, seed))
    started = time.monotonic()
    source: Producer | EdgeLoad
    try:
        source = Producer(run.dis.cfg, run.events, scenario.rate)
        if scenario.before_workers:
            source.start().join()
        for group in (run.ref, run.dis):
            run.start_worker(group)
        if scenario.edge:
            run.start_edge()
            source = EdgeLoad(run, scenario.events, scenario.rate)
        if not scenario.before_workers:
            source.start()
        scenario.fault(run, source)
        source.join()
        summarised = None
        if scenario.edge:
            produced = edge_events(run)  # each reading made one event: these ids are what came
            run.events = [e for _, e in produced]
            summarised = edge_readings_summarised(run)
        distinct = len({e.event_id for e in run.events})
        settled = {}
        for group in (run.ref, run.dis):  # bounded waits: a stuck group is a finding, not a hang
            settled[group.name] = (
                wait_until(lambda g=group: caught_up(g, 4), timeout=240, interval=1.0)
                and wait_until(lambda g=group: clickhouse_distinct(g)[0] >= distinct,
                               timeout=120, interval=1.0))
        time.sleep(2)
        ref_alerts, _, ref_conflicts = final_alerts(run.ref)
        dis_alerts, revisions, conflicts = final_alerts(run.dis)
        in_ch, ch_rows = clickhouse_distinct(run.dis)
        in_kafka = len({e.event_id for e in run.events})  # the producer flushed: all acked
        readings_lost = scenario.events - in_kafka if scenario.edge else 0
        log_lines, raw_lines = worker_log_lines(run.started)
        correlated = {i for a in dis_alerts.values() for i in a[3]}
        ref_correlated = {i for a in ref_alerts.values() for i in a[3]}
        return {
            "seed": seed, "events_in": len(run.events), "distinct_in": distinct,
            "in_kafka": in_kafka, "in_clickhouse_final": in_ch, "clickhouse_rows": ch_rows,
            "reference_in_clickhouse": clickhouse_distinct(run.ref)[0],
            "correlated_events": len(correlated), "reference_correlated_events": len(ref_correlated),
            "lost": in_kafka - in_ch + readings_lost, "readings_lost_at_edge": readings_lost,
            "readings_in_1s_summaries": summarised,
            "summaries_equal_readings": None if summarised is None
            else summarised == scenario.events,
            "uncorrelated_vs_reference": len(ref_correlated - correlated),
            "alerts": len(dis_alerts), "reference_alerts": len(ref_alerts),
            "alert_revisions_read": revisions,
            "conflicting_revisions": len(conflicts) + len(ref_conflicts),
            "conflicts_sample": (conflicts + ref_conflicts)[:5],
            "worker_pids": {g.name: [w.pid for w in g.workers] for g in (run.ref, run.dis)},
            "alerts_equal_reference": dis_alerts == ref_alerts,
            "extra_alerts": len(set(dis_alerts) - set(ref_alerts)),
            "missing_alerts": len(set(ref_alerts) - set(dis_alerts)),
            "differing_alerts": sum(1 for k in set(dis_alerts) & set(ref_alerts)
                                    if dis_alerts[k] != ref_alerts[k]),
            "worker_restarts_by_fault": run.dis.restarts,
            "worker_log_lines": log_lines, "raw_librdkafka_lines": raw_lines,
            "crash_restarts_by_supervisor": _supervisor_restarts(run.started),
            "groups_caught_up": settled,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        if run.edge is not None:
            run.edge.stop()
        for group in (run.ref, run.dis):
            for w in group.workers:
                w.stop()


def edge_events(run: Run) -> list[tuple[bytes, Event]]:
    """Every distinct event the edge delivered, once its outbox is empty."""
    from riskstream.events import decode_event_record

    assert run.edge is not None
    wait_until(lambda: run.edge is not None and
               run.edge.metric("riskstream_edge_outbox_depth") == 0, timeout=120, interval=0.5)
    time.sleep(2)
    records = read_topic(run.dis.cfg.kafka, run.dis.cfg.kafka.topics.events, expect=1, timeout=60,
                         settle=3.0)
    seen: dict[str, tuple[bytes, Event]] = {}
    for key, value in records:
        for _, item in decode_event_record(value):
            if isinstance(item, Event):
                seen.setdefault(item.event_id, (key or b"", item))
    return list(seen.values())


def edge_readings_summarised(run: Run) -> int:
    """Readings counted in the edge's 1 s summaries on rs.readings (a re-sent summary is the
    same summary): a reading the broker re-sent after a kill must not count twice."""
    from riskstream.testing import one_second_counts

    time.sleep(4)  # the last 1 s windows close 2 s after their end, then the forwarder sends
    records = read_topic(run.dis.cfg.kafka, run.dis.cfg.kafka.topics.readings, expect=1,
                         timeout=60, settle=3.0)
    return sum(one_second_counts([value for _, value in records]).values())


def _supervisor_restarts(procs: list[RiskstreamProcess]) -> int:
    """Child crashes or stalls the supervisors restarted (their log lines) in this run."""
    return sum(p.log.read_text(errors="replace").count("starting a fresh one") for p in procs)


RAW_LIBRDKAFKA = re.compile(r"^%\d\|\d+\.\d+\|", re.MULTILINE)  # librdkafka's own stderr format


def worker_log_lines(procs: list[RiskstreamProcess]) -> tuple[int, int]:
    """(lines, raw librdkafka lines) the workers of this run wrote: how loud a fault is in the
    operator's log (a never-polled consumer once wrote a FAIL line every 50 ms of an outage)."""
    texts = [p.log.read_text(errors="replace") for p in procs if p.role == "worker"]
    return (sum(t.count("\n") for t in texts),
            sum(len(RAW_LIBRDKAFKA.findall(t)) for t in texts))


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "runs_that_failed_to_finish": sum(1 for r in runs if "error" in r),
        "lost_total": sum(r["lost"] for r in runs),
        "conflicting_revisions_total": sum(r["conflicting_revisions"] for r in runs),
        "runs_with_alerts_equal_reference": sum(r["alerts_equal_reference"] for r in runs),
        "uncorrelated_vs_reference_total": sum(r["uncorrelated_vs_reference"] for r in runs),
        "worker_log_lines_max": max((r.get("worker_log_lines", 0) for r in runs), default=0),
        "raw_librdkafka_lines_total": sum(r.get("raw_librdkafka_lines", 0) for r in runs),
        "runs_with_summaries_equal_readings": sum(1 for r in runs
                                                  if r.get("summaries_equal_readings")),
    }


def _commit() -> str:
    """The code a scenario's figures were measured on (scenarios are rerun separately)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).parent, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ":/", ":(top,exclude)benchmarks/results"],
                               capture_output=True, text=True, cwd=Path(__file__).parent,
                               timeout=10).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "?"
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario (default 5)")
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS),
                        help="comma-separated subset")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if s.name in args.scenarios.split(",")]
    previous = RESULTS / "faults.json"  # scenarios not run now keep their last figures
    figures: dict[str, Any] = (json.loads(previous.read_text())["figures"]
                               if previous.exists() else {})
    with local_services() as (info, scratch):
        for scenario in chosen:
            runs = []
            for seed in range(args.runs):
                print(f"{scenario.name} run {seed + 1}/{args.runs} ...", flush=True)
                try:
                    outcome = run_once(info, scratch, scenario, seed)
                except Exception as exc:  # a run that could not finish is reported, not hidden
                    outcome = {"seed": seed, "error": f"{type(exc).__name__}: {exc}"[:500],
                               "lost": 0, "conflicting_revisions": 0,
                               "alerts_equal_reference": False, "uncorrelated_vs_reference": 0}
                print("  " + json.dumps(outcome), flush=True)
                runs.append(outcome)
            figures[scenario.name] = {"summary": summarise(runs), "commit": _commit(), "runs": runs}
            save("faults", figures)  # partial results survive a later failure
    out = save("faults", figures)
    report("Faults (per scenario: runs, lost, conflicting revisions, runs with equal alerts)", [
        (name, f"{f['summary']['runs']} runs, lost {f['summary']['lost_total']}, conflicting "
               f"{f['summary']['conflicting_revisions_total']}, equal alerts "
               f"{f['summary']['runs_with_alerts_equal_reference']}/{f['summary']['runs']}")
        for name, f in figures.items()])
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
