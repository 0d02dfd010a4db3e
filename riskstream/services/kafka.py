"""A single-node Apache Kafka broker in KRaft mode, from Maven Central jars.

The jars are resolved once with ``mvn dependency:copy-dependencies`` into a cache folder
(``$RISKSTREAM_CACHE`` or ``~/.cache/riskstream``); the broker runs as ``java -cp ... kafka.Kafka``
with a generated ``server.properties`` on free loopback ports.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from riskstream.services.process import ServiceError, spawn, wait_until

KAFKA_VERSION = os.environ.get("RISKSTREAM_KAFKA_VERSION", "4.1.1")
STARTED_MARKER = "Kafka Server started"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "riskstream"
    return Path(os.environ.get("RISKSTREAM_CACHE", default)).expanduser()


def broker_jars(version: str = KAFKA_VERSION) -> Path:
    """The folder of broker jars for ``version``, resolving them from Maven on first use."""
    target = cache_dir() / f"kafka-{version}"
    libs = target / "libs"
    if (target / ".complete").exists():
        return libs
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ServiceError(
                f"'{tool}' not found: the local Kafka broker needs Java 17+ and Maven. "
                "Install them with: sudo apt-get install -y openjdk-17-jre-headless maven"
            )
    target.mkdir(parents=True, exist_ok=True)
    pom = resources.files("riskstream.services").joinpath("kafka-broker-pom.xml").read_text()
    (target / "pom.xml").write_text(pom.replace("@KAFKA_VERSION@", version))
    staging = target / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = ["mvn", "-B", "-q", "-f", str(target / "pom.xml"), "dependency:copy-dependencies",
           f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceError(f"could not resolve Kafka {version} from Maven:\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (target / ".complete").write_text(version)
    return libs


@dataclass(frozen=True)
class KafkaProcess:
    pid: int
    port: int
    controller_port: int
    log: Path
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


def _server_properties(port: int, controller_port: int, data_dir: Path) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data_dir}",
        "num.partitions=4",
        "auto.create.topics.enable=true",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=4",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=168",
        "",
    ])


def start_kafka(workdir: Path, port: int, controller_port: int, timeout: float = 90.0) -> KafkaProcess:
    """Format (first time only) and start a broker; returns once it accepts clients."""
    libs = broker_jars()
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    props = workdir / "server.properties"
    props.write_text(_server_properties(port, controller_port, data_dir))
    log4j = workdir / "log4j2.properties"
    log4j.write_text(
        resources.files("riskstream.services").joinpath("kafka-log4j2.properties").read_text()
    )
    java = ["java", "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*"]
    if not (data_dir / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        fmt = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
            capture_output=True, text=True, check=False,
        )
        if fmt.returncode != 0:
            raise ServiceError(f"kafka storage format failed:\n{fmt.stdout}{fmt.stderr}")
    log = workdir / "broker.log"
    log.write_text("")
    pid = spawn([*java, "kafka.Kafka", str(props)], log)
    wait_until(lambda: STARTED_MARKER in log.read_text(errors="replace"), pid=pid,
               what="Kafka broker", log_path=log, timeout=timeout)
    return KafkaProcess(pid=pid, port=port, controller_port=controller_port, log=log,
                        data_dir=data_dir)
