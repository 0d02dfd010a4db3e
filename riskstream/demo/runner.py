"""``riskstream demo``: services, worker, edge, simulated sensors, live events, summary, stop.

Everything runs for real: Kafka and Mosquitto as local processes, the edge agent and a Faust
worker as subprocesses, ClickHouse as the embedded engine owned by the worker. At the end the
demo checks that every event seen on Kafka is in ClickHouse exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.demo.cameras import serve_demo_cameras
from riskstream.events import (
    ActionKind,
    Alert,
    AlertAction,
    Event,
    EventError,
    decode_event_record,
)
from riskstream.launch import RiskstreamProcess, start_process, wait_for_metric
from riskstream.services import LocalServices, ServiceInfo
from riskstream.services.mqtt_accounts import Accounts
from riskstream.tables import format_table

log = logging.getLogger("riskstream.demo")


class EventPrinter(threading.Thread):
    """Consumes rs.events, rs.alerts and rs.dlq and prints each record as it arrives."""

    def __init__(self, cfg: Config) -> None:
        super().__init__(daemon=True, name="event-printer")
        from confluent_kafka import Consumer

        from riskstream.kafka_settings import librdkafka_config

        # The admin's view: it reads rs.events too, which the command center may not.
        self._consumer = Consumer(
            {
                **librdkafka_config(cfg.kafka, "admin"),
                "group.id": f"riskstream-center-demo-{time.time_ns()}",
                "auto.offset.reset": "latest",
                "enable.auto.commit": False,
            }
        )
        self._topics = cfg.kafka.topics
        self.assigned = threading.Event()
        self.event_ids: list[str] = []
        self.alerts: list[Alert] = []
        self.dead_letters: list[dict[str, Any]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        def on_assign(consumer: Any, partitions: Any) -> None:
            self.assigned.set()

        self._consumer.subscribe(
            [self._topics.events, self._topics.dlq, self._topics.alerts], on_assign=on_assign
        )
        try:
            while not self._halt.is_set():
                msg = self._consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                self._show(msg.topic() or "", msg.value() or b"")
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def _show(self, topic: str, value: bytes) -> None:
        if topic == self._topics.alerts:
            alert = Alert.from_json(value)
            self.alerts.append(alert)
            print(
                f"  ALERT   {alert.severity.value.upper():<8} {alert.status.value:<12} "
                f"{alert.rule} r{alert.revision} ({alert.alert_id})\n"
                f"          {alert.explanation}",
                flush=True,
            )
            return
        if topic == self._topics.dlq:
            record = json.loads(value)
            self.dead_letters.append(record)
            print(f"  DLQ     {record['stage']:<12} {record['reason']}", flush=True)
            return
        for _, item in decode_event_record(value):
            if isinstance(item, EventError):
                print(f"  ??      undecodable event: {item}", flush=True)
            else:
                self._show_event(item)

    def _show_event(self, e: Event) -> None:
        self.event_ids.append(e.event_id)
        attrs = e.attrs
        head = f"  {e.ts:%H:%M:%S}  {e.severity.value.upper():<8} {e.site_id:<11} {e.source_id:<10} "
        if e.value is None:  # video: an incident's start, update or end, with its snapshot
            print(
                f"{head}{e.kind} {e.zone or ''} {attrs.get('phase', '')} score {e.score:.2f}"
                + (f" snapshot {e.snapshot}" if e.snapshot else ""),
                flush=True,
            )
            return
        print(
            f"{head}{e.value:>8.2f} {e.unit or '':<5} "
            f"{attrs.get('previous_level')} -> {attrs.get('level')} "
            f"(threshold {attrs.get('threshold')})",
            flush=True,
        )


def _settled_count(printer: EventPrinter, quiet_s: float = 2.0, timeout_s: float = 30.0) -> int:
    """Events seen once nothing new has arrived for ``quiet_s`` (the edge's final flush)."""
    deadline = time.monotonic() + timeout_s
    count = len(printer.event_ids)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = len(printer.event_ids)
        if now == count:
            break
        count = now
    return count


def _publish(cfg: Config, env: dict[str, str], duration: float, rate: float,
             accounts: Accounts) -> int:
    """Publish the simulated readings in real time, each site's through its own gateway
    account; returns how many were sent."""
    from riskstream.demo.simulator import readings
    from riskstream.services.mqtt_accounts import gateway_user
    from riskstream.testing import mqtt_publisher

    clients = {}
    for site in {s.site for s in cfg.sensors}:
        user = gateway_user(site)
        clients[site] = mqtt_publisher(env, f"riskstream-demo-{site}", user,
                                       accounts[user].password)
    site_of = {s.topic: s.site for s in cfg.sensors}
    start, sent, last_report = time.monotonic(), 0, 0.0
    infos = []
    for msg in readings(cfg.sensors, duration, rate):
        delay = start + msg.at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if msg.note:
            print(f"  (sim)   sending {msg.note} on {msg.topic}", flush=True)
        infos.append(clients[site_of[msg.topic]].publish(msg.topic, msg.payload, qos=1))
        sent += 1
        if msg.at - last_report >= 10:
            last_report = msg.at
            print(f"  ... {msg.at:4.0f} s / {duration:.0f} s, {sent} readings published", flush=True)
    for info in infos:
        info.wait_for_publish(10)
    for client in clients.values():
        client.disconnect()
        client.loop_stop()
    return sent


def _acknowledge_first_critical(cfg: Config, printer: EventPrinter) -> None:
    """Play the command center once: acknowledge the first critical alert."""
    from riskstream.command_center import send_action

    critical = next((a for a in printer.alerts if a.severity.value == "critical"), None)
    if critical is None:
        return
    print(f"\n  (command center) acknowledging {critical.alert_id} ({critical.rule})", flush=True)
    send_action(
        cfg.kafka,
        AlertAction(
            alert_id=critical.alert_id,
            site_id=critical.site_id,
            action=ActionKind.ACKNOWLEDGE,
            by="demo duty officer",
            comment="crew dispatched to the tank farm",
        ),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(
        a.alert_id == critical.alert_id and a.status.value == "acknowledged" for a in printer.alerts
    ):
        time.sleep(0.2)


def _summary(cfg: Config, since: datetime, kafka_ids: list[str]) -> bool:
    from riskstream.storage.clickhouse import connect

    client = connect(cfg.clickhouse)
    db = cfg.clickhouse.database
    where = f"detected_at >= toDateTime64('{since:%Y-%m-%d %H:%M:%S}', 3, 'UTC')"
    result = client.query(
        f"SELECT site_id, source_id, kind, severity, count() AS events, "
        f"round(max(value), 2) AS max_value, any(unit) AS unit "
        f"FROM {db}.events FINAL WHERE {where} "
        f"GROUP BY site_id, source_id, kind, severity ORDER BY site_id, source_id, severity"
    )
    print("\nEvents stored in ClickHouse during this run:")
    print(format_table(list(result.column_names), result.result_rows))
    rows, distinct = client.query(
        f"SELECT count(), uniqExact(event_id) FROM {db}.events WHERE event_id IN %(ids)s",
        parameters={"ids": list(kafka_ids)},
    ).result_rows[0]
    # By id, not by time: the edge may re-send an event a previous run left in its outbox.
    stored_ids = {
        r[0]
        for r in client.query(
            f"SELECT event_id FROM {db}.events WHERE event_id IN %(ids)s", parameters={"ids": list(kafka_ids)}
        ).result_rows
    }
    missing = set(kafka_ids) - stored_ids
    alerts = client.query(
        f"SELECT alert_id, rule, severity, status, revision, length(event_ids) AS events "
        f"FROM {db}.alerts FINAL WHERE updated_at >= toDateTime64('{since:%Y-%m-%d %H:%M:%S}', 3, "
        f"'UTC') ORDER BY first_ts"
    )
    print("\nAlerts stored in ClickHouse (latest revision of each):")
    print(format_table(list(alerts.column_names), alerts.result_rows))
    print(
        f"\nKafka rs.events: {len(kafka_ids)} events; ClickHouse: {distinct} distinct "
        f"({rows} rows before de-duplication); missing in ClickHouse: {len(missing)}"
        + (f" ({', '.join(sorted(missing)[:10])})" if missing else "")
    )
    if not kafka_ids:  # the simulation always raises events: seeing none is a failure
        print("no event reached Kafka: the check above proves nothing; see the logs")
    return bool(kafka_ids) and not missing


DEMO_USER = "demo"


def _start_console(config: Path, state_dir: Path, env: dict[str, str],
                   log_dir: Path) -> tuple[RiskstreamProcess, str, str]:
    """The console with a demo city operator (and an admin, so it may start); the demo
    password is made once and kept in the state folder (mode 0600)."""
    import secrets

    from riskstream.center.accounts import Accounts as ConsoleAccounts
    from riskstream.launch import start_center

    accounts = ConsoleAccounts(state_dir / "center" / "center.db")
    secret = state_dir / "center" / "demo-login.txt"
    if not accounts.has_admin():
        accounts.add_user("admin", secrets.token_urlsafe(16), "admin")
    if not any(u.name == DEMO_USER for u, _ in accounts.users()):
        password = secrets.token_urlsafe(12)
        accounts.add_user(DEMO_USER, password, "city_operator")
        secret.write_text(password + "\n")
        secret.chmod(0o600)
    password = secret.read_text().strip() if secret.exists() else "(see demo-login.txt)"
    proc, url = start_center(config, state_dir, env, log_dir)
    return proc, url, f"{DEMO_USER} / {password}"


def run_demo(config_path: str, state_dir: Path, duration: float, rate: float) -> int:
    services = LocalServices(state_dir)
    already_up = services.load() is not None and services.status()["running"]
    print(f"riskstream demo: config {config_path}, state and logs in {services.state_dir}")
    print("starting Kafka and Mosquitto ..." if not already_up else "using running services")
    info: ServiceInfo = services.up()
    env = info.env()
    os.environ.update(env)  # this process, too, talks to these services
    cfg = with_env_overrides(load(config_path), env)
    log_dir = services.state_dir / "logs"
    procs: list[RiskstreamProcess] = []
    printer: EventPrinter | None = None
    camera_stops: list[Callable[[], None]] = []
    ok = False
    try:
        edge_config, camera_stops, camera_lines = serve_demo_cameras(Path(config_path), services.state_dir)
        for line in camera_lines:
            print(f"camera {line}")
        from riskstream.topics import ensure_topics

        ensure_topics(cfg)
        accounts = services.grant_mqtt(cfg)
        print(
            f"kafka {info.kafka_bootstrap}, mosquitto 127.0.0.1:{info.mqtt_port}, "
            f"clickhouse {info.clickhouse_dsn}"
        )
        since = datetime.now(UTC)  # before the edge starts: its cameras report at once
        worker = start_process("worker", Path(config_path), services.state_dir, env, log_dir)
        procs.append(worker)
        edge = start_process("edge", edge_config, services.state_dir, env, log_dir)
        procs.append(edge)
        print(f"worker pid {worker.pid} (log {worker.log}), edge pid {edge.pid} (log {edge.log})")
        console, url, login = _start_console(Path(config_path), services.state_dir, env, log_dir)
        procs.append(console)
        print(f"console {url}/ (log in as {login}; open it while the demo runs)")
        printer = EventPrinter(cfg)
        printer.start()
        printer.assigned.wait(30)
        print(
            f"\nSimulating {len(cfg.sensors)} sensors at {rate:g} readings/s for {duration:g} s;"
            " events as they reach Kafka:"
        )
        sent = _publish(cfg, env, duration, rate, accounts)
        _acknowledge_first_critical(cfg, printer)
        print(f"\npublished {sent} readings; waiting for the worker to store every event ...")
        edge.stop()  # its last records (e.g. the end of open video incidents) go out now
        produced = _settled_count(printer)
        wait_for_metric(
            worker,
            "riskstream_worker_rows_stored_total",
            produced,
            60,
            table=f"{cfg.clickhouse.database}.events",
        )
        time.sleep(1.0)
        printer.stop()
        worker.stop()
        print(f"dead letters: {len(printer.dead_letters)}")
        ok = _summary(cfg, since, printer.event_ids)
    finally:
        if printer is not None and printer.is_alive():
            printer.stop()
        for proc in reversed(procs):
            proc.stop()
        for stop in camera_stops:
            stop()
        if not already_up:
            stopped = services.down()
            print("stopped: " + ", ".join(stopped))
    print(
        "demo "
        + ("finished: every event is in ClickHouse exactly once" if ok else "FAILED: see the logs above")
    )
    return 0 if ok else 1
