"""The local service stack on free loopback ports, recorded in ``services.json``.

Kafka (KRaft, SASL/SCRAM users per role, ACLs), Mosquitto (password auth) and ClickHouse (the
embedded engine behind the ClickHouse HTTP interface, writer and read-only users). ``up()``
starts what is not running (a service that died comes back alone, on its recorded port with
its recorded passwords), ``status()`` reports, ``down()`` stops by recorded PID. Single
services can be stopped and started again on the same port and data (``stop``/``start``) to rehearse outages.
``env()`` gives the ``RS_*`` variables that point riskstream processes at these services.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from riskstream.config.schema import Config
from riskstream.kafka_settings import ROLES, role_password_env
from riskstream.metrics_http import TOKEN_ENV
from riskstream.services.clickhouse import READER, start_clickhouse
from riskstream.services.kafka import MECHANISM, kafka_credentials, start_kafka
from riskstream.services.mosquitto import require_binary, start_mosquitto
from riskstream.services.mqtt_accounts import (
    EDGE_USER,
    AccountFiles,
    Accounts,
    Grants,
    merge,
    reload_broker,
    wait_for_login,
    wanted,
)
from riskstream.services.process import ServiceError, free_port, pid_alive, port_open, stop_pid

MQTT_USER = EDGE_USER
SERVICES = ("kafka", "mosquitto", "clickhouse")


@dataclass(frozen=True)
class ServiceInfo:
    """Where the running services are; saved as ``services.json`` in the state folder."""

    state_dir: str
    kafka_pid: int
    kafka_port: int
    kafka_controller_port: int
    kafka_log: str
    mqtt_pid: int
    mqtt_port: int
    mqtt_username: str
    mqtt_password: str
    mqtt_log: str
    clickhouse_pid: int
    clickhouse_port: int
    clickhouse_password: str
    clickhouse_reader_password: str
    clickhouse_log: str
    kafka_passwords: dict[str, str]  # per role of kafka_settings.ROLES, and the controller's
    metrics_token: str = ""  # what scrapes of the edge's and worker's /metrics must send

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def clickhouse_dsn(self) -> str:
        return f"http://riskstream@127.0.0.1:{self.clickhouse_port}"

    def env(self) -> dict[str, str]:
        """Environment for riskstream processes that should use these services."""
        return {
            "RS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "RS_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "RS_KAFKA_SASL_MECHANISM": MECHANISM,
            **{role_password_env(role): self.kafka_passwords[role] for role in ROLES},
            "RS_MQTT_HOST": "127.0.0.1",
            "RS_MQTT_PORT": str(self.mqtt_port),
            "RS_MQTT_USERNAME": self.mqtt_username,
            "RS_MQTT_PASSWORD": self.mqtt_password,
            "RS_CLICKHOUSE_DSN": self.clickhouse_dsn,
            "RS_CLICKHOUSE_PASSWORD": self.clickhouse_password,
            "RS_CLICKHOUSE_READER_PASSWORD": self.clickhouse_reader_password,
            TOKEN_ENV: self.metrics_token,
        }

    def pid(self, service: str) -> int:
        return {"kafka": self.kafka_pid, "mosquitto": self.mqtt_pid,
                "clickhouse": self.clickhouse_pid}[service]

    def port(self, service: str) -> int:
        return {"kafka": self.kafka_port, "mosquitto": self.mqtt_port,
                "clickhouse": self.clickhouse_port}[service]


class LocalServices:
    """Real local services under one state folder (logs, data, pid/port records)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir.resolve()
        self.state_file = self.state_dir / "services.json"

    def load(self) -> ServiceInfo | None:
        try:
            return ServiceInfo(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _save(self, info: ServiceInfo) -> ServiceInfo:
        self.state_file.write_text(json.dumps(asdict(info), indent=2))
        self.state_file.chmod(0o600)  # it holds generated passwords
        return info

    def up(self) -> ServiceInfo:
        """Start Kafka, Mosquitto and ClickHouse unless the recorded ones are still running;
        a recorded service that died is started again alone, on its port and passwords."""
        current = self.load()
        if current is not None:
            if not current.metrics_token:  # recorded before metrics needed a token
                current = self._save(replace(current, metrics_token=secrets.token_urlsafe(24)))
            for service in SERVICES:
                if not self._service_healthy(current, service):
                    stop_pid(current.pid(service), timeout=30)  # hung rather than dead
                    current = self.start(service)
            return current
        self.down()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        kafka_passwords = kafka_credentials(self.state_dir / "kafka")
        kafka = start_kafka(self.state_dir / "kafka", free_port(), free_port(), kafka_passwords)
        started = [kafka.pid]
        try:
            mqtt = start_mosquitto(self.state_dir / "mosquitto", free_port(), MQTT_USER,
                                   secrets.token_urlsafe(18))
            started.append(mqtt.pid)
            writer_pw, reader_pw = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
            ch = start_clickhouse(self.state_dir / "clickhouse", free_port(), writer_pw, reader_pw)
        except Exception:
            for pid in started:
                stop_pid(pid)
            raise
        return self._save(ServiceInfo(
            state_dir=str(self.state_dir),
            kafka_pid=kafka.pid, kafka_port=kafka.port,
            kafka_controller_port=kafka.controller_port, kafka_log=str(kafka.log),
            mqtt_pid=mqtt.pid, mqtt_port=mqtt.port, mqtt_username=mqtt.username,
            mqtt_password=mqtt.password, mqtt_log=str(mqtt.log),
            clickhouse_pid=ch.pid, clickhouse_port=ch.port, clickhouse_password=writer_pw,
            clickhouse_reader_password=reader_pw, clickhouse_log=str(ch.log),
            kafka_passwords=kafka_passwords, metrics_token=secrets.token_urlsafe(24),
        ))

    def grant_mqtt(self, cfg: Config) -> Accounts:
        """Add this config's gateway and edge accounts and ACLs to the running Mosquitto."""
        return self.grant_mqtt_accounts(wanted(cfg))

    def grant_mqtt_accounts(self, grants: Grants) -> Accounts:
        """Add accounts / topic grants (user -> (read, write)) to the running Mosquitto."""
        info = self._require()
        files = AccountFiles(self.state_dir / "mosquitto")
        accounts = merge(files.load(), grants)
        files.write(accounts, require_binary("mosquitto_passwd"))
        reload_broker(info.mqtt_pid)
        newest = max(grants, key=lambda u: u != info.mqtt_username)  # a gateway if any
        wait_for_login(info.mqtt_port, newest, accounts[newest].password)
        return accounts

    def mqtt_password(self, user: str) -> str:
        return AccountFiles(self.state_dir / "mosquitto").password(user)

    def stop(self, service: str) -> None:
        """Stop one service (an outage rehearsal); its data and port stay reserved."""
        info = self._require()
        stop_pid(info.pid(service), timeout=30)

    def start(self, service: str) -> ServiceInfo:
        """Start a stopped service again on its recorded port and data."""
        info = self._require()
        if service == "kafka":
            k = start_kafka(self.state_dir / "kafka", info.kafka_port, info.kafka_controller_port,
                            info.kafka_passwords)
            return self._save(replace(info, kafka_pid=k.pid))
        if service == "mosquitto":
            m = start_mosquitto(self.state_dir / "mosquitto", info.mqtt_port, info.mqtt_username,
                                info.mqtt_password)
            return self._save(replace(info, mqtt_pid=m.pid))
        c = start_clickhouse(self.state_dir / "clickhouse", info.clickhouse_port,
                             info.clickhouse_password, info.clickhouse_reader_password)
        return self._save(replace(info, clickhouse_pid=c.pid))

    def _require(self) -> ServiceInfo:
        info = self.load()
        if info is None:
            raise ServiceError(f"no services recorded in {self.state_file}: start them with "
                               f"'riskstream services up --state-dir {self.state_dir}'")
        return info

    def down(self) -> list[str]:
        """Stop the recorded services by PID; returns what was stopped."""
        info = self.load()
        stopped: list[str] = []
        if info is None:
            return stopped
        for service in ("mosquitto", "clickhouse", "kafka"):
            if stop_pid(info.pid(service), timeout=30):
                stopped.append(f"{service} (pid {info.pid(service)})")
        self.state_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, Any]:
        info = self.load()
        if info is None:
            return {"running": False, "state_dir": str(self.state_dir)}
        report: dict[str, Any] = {"running": self._healthy(info), "state_dir": info.state_dir}
        logs = {"kafka": info.kafka_log, "mosquitto": info.mqtt_log,
                "clickhouse": info.clickhouse_log}
        for service in SERVICES:
            report[service] = {"pid": info.pid(service), "alive": pid_alive(info.pid(service)),
                               "port": info.port(service),
                               "accepting": port_open("127.0.0.1", info.port(service)),
                               "log": logs[service]}
        report["kafka"]["bootstrap"] = info.kafka_bootstrap
        report["clickhouse"]["dsn"] = info.clickhouse_dsn
        report["clickhouse"]["analyst_user"] = READER
        return report

    @classmethod
    def _healthy(cls, info: ServiceInfo) -> bool:
        return all(cls._service_healthy(info, s) for s in SERVICES)

    @staticmethod
    def _service_healthy(info: ServiceInfo, service: str) -> bool:
        return pid_alive(info.pid(service)) and port_open("127.0.0.1", info.port(service))

