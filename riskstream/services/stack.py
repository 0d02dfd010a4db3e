"""The local service stack: Kafka + Mosquitto on free loopback ports, recorded in a state file.

``up()`` starts what is not running, ``status()`` reports, ``down()`` stops by recorded PID.
``env()`` gives the ``RS_*`` variables that point riskstream processes at these services.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from riskstream.services.kafka import start_kafka
from riskstream.services.mosquitto import start_mosquitto
from riskstream.services.process import free_port, pid_alive, port_open, stop_pid

MQTT_USER = "riskstream-edge"


@dataclass(frozen=True)
class ServiceInfo:
    """Where the running services are; saved as ``services.json`` in the state folder."""

    state_dir: str
    kafka_pid: int
    kafka_bootstrap: str
    kafka_log: str
    mqtt_pid: int
    mqtt_host: str
    mqtt_port: int
    mqtt_username: str
    mqtt_password: str
    mqtt_log: str
    clickhouse_dsn: str

    def env(self) -> dict[str, str]:
        """Environment for riskstream processes that should use these services."""
        return {
            "RS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "RS_MQTT_HOST": self.mqtt_host,
            "RS_MQTT_PORT": str(self.mqtt_port),
            "RS_MQTT_USERNAME": self.mqtt_username,
            "RS_MQTT_PASSWORD": self.mqtt_password,
            "RS_CLICKHOUSE_DSN": self.clickhouse_dsn,
        }


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

    def up(self) -> ServiceInfo:
        """Start Kafka and Mosquitto unless the recorded ones are still running."""
        current = self.load()
        if current is not None and self._healthy(current):
            return current
        self.down()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        kafka = start_kafka(self.state_dir / "kafka", free_port(), free_port())
        try:
            mqtt = start_mosquitto(self.state_dir / "mosquitto", free_port(), MQTT_USER,
                                   secrets.token_urlsafe(18))
        except Exception:
            stop_pid(kafka.pid)
            raise
        info = ServiceInfo(
            state_dir=str(self.state_dir),
            kafka_pid=kafka.pid, kafka_bootstrap=kafka.bootstrap, kafka_log=str(kafka.log),
            mqtt_pid=mqtt.pid, mqtt_host="127.0.0.1", mqtt_port=mqtt.port,
            mqtt_username=mqtt.username, mqtt_password=mqtt.password, mqtt_log=str(mqtt.log),
            clickhouse_dsn=f"chdb://{self.state_dir / 'clickhouse'}",
        )
        self.state_file.write_text(json.dumps(asdict(info), indent=2))
        self.state_file.chmod(0o600)  # it holds the generated MQTT password
        return info

    def down(self) -> list[str]:
        """Stop the recorded services by PID; returns what was stopped."""
        info = self.load()
        stopped: list[str] = []
        if info is None:
            return stopped
        if stop_pid(info.mqtt_pid, timeout=10):
            stopped.append(f"mosquitto (pid {info.mqtt_pid})")
        if stop_pid(info.kafka_pid, timeout=30):
            stopped.append(f"kafka (pid {info.kafka_pid})")
        self.state_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, Any]:
        info = self.load()
        if info is None:
            return {"running": False, "state_dir": str(self.state_dir)}
        host, port = info.kafka_bootstrap.rsplit(":", 1)
        return {
            "running": self._healthy(info),
            "state_dir": info.state_dir,
            "kafka": {"pid": info.kafka_pid, "alive": pid_alive(info.kafka_pid),
                      "bootstrap": info.kafka_bootstrap,
                      "accepting": port_open(host, int(port)), "log": info.kafka_log},
            "mosquitto": {"pid": info.mqtt_pid, "alive": pid_alive(info.mqtt_pid),
                          "port": info.mqtt_port, "accepting": port_open("127.0.0.1", info.mqtt_port),
                          "log": info.mqtt_log},
            "clickhouse": {"dsn": info.clickhouse_dsn},
        }

    @staticmethod
    def _healthy(info: ServiceInfo) -> bool:
        host, port = info.kafka_bootstrap.rsplit(":", 1)
        return (pid_alive(info.kafka_pid) and pid_alive(info.mqtt_pid)
                and port_open(host, int(port)) and port_open(info.mqtt_host, info.mqtt_port))
