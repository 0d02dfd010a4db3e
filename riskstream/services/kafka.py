"""A single-node Apache Kafka broker in KRaft mode, from Maven Central jars.

The jars are resolved once with ``mvn dependency:copy-dependencies`` into a cache folder
(``$RISKSTREAM_CACHE`` or ``~/.cache/riskstream``); the broker runs as ``java -cp ... kafka.Kafka``
with a generated ``server.properties`` (mode 0600: it holds the controller's password) on
free loopback ports.

Closed by default: clients authenticate with SASL/SCRAM-SHA-512 (users created at format time
with ``--add-scram``, one per riskstream role, see :mod:`riskstream.kafka_settings`) or, for
clients whose SCRAM is broken against Kafka 4, SASL/PLAIN with the same users; the
controller listener with SASL/PLAIN, and KRaft's ``StandardAuthorizer`` denies whatever no
ACL allows (the ACLs are granted by ``riskstream topics create``). ``riskstream-admin`` and
the controller are the super users.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from riskstream.kafka_settings import ROLES, role_user
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


MECHANISM = "SCRAM-SHA-512"
CONTROLLER_USER = "riskstream-controller"


def _jaas(module: str, user: str, password: str, *extra: str) -> str:
    fields = " ".join([f'username="{user}"', f'password="{password}"', *extra])
    return f"org.apache.kafka.common.security.{module} required {fields};"


def _server_properties(port: int, controller_port: int, data_dir: Path,
                       passwords: dict[str, str]) -> str:
    admin, ctl = passwords["admin"], passwords["controller"]
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
        f"listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name=SASL_PLAINTEXT",
        f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
        "sasl.mechanism.controller.protocol=PLAIN",
        # PLAIN beside SCRAM for clients whose SCRAM fails against Kafka 4 (librdkafka < 2.6.1,
        # e.g. Debian 12's kcat: it appends the nonce twice); same users, same passwords.
        f"listener.name.sasl_plaintext.sasl.enabled.mechanisms={MECHANISM},PLAIN",
        f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config="
        + _jaas("scram.ScramLoginModule", role_user("admin"), admin),
        "listener.name.sasl_plaintext.plain.sasl.jaas.config="
        + _jaas("plain.PlainLoginModule", role_user("admin"), admin,
                *(f'user_{role_user(r)}="{passwords[r]}"' for r in ROLES)),
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        "listener.name.controller.plain.sasl.jaas.config="
        + _jaas("plain.PlainLoginModule", CONTROLLER_USER, ctl, f'user_{CONTROLLER_USER}="{ctl}"'),
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:{role_user('admin')};User:{CONTROLLER_USER}",
        "allow.everyone.if.no.acl.found=false",
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


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64, never starting with '-' (Kafka's
    own Uuid.randomUuid avoids it too): the storage tool took a leading '-' for an option and
    refused to format, about one start in 64 (seen: every integration test of one run)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id

def start_kafka(workdir: Path, port: int, controller_port: int, passwords: dict[str, str],
                timeout: float = 90.0) -> KafkaProcess:
    """Format (first time only) and start a broker; returns once it accepts clients.

    ``passwords``: one per role of :data:`~riskstream.kafka_settings.ROLES` and the controller's.
    """
    libs = broker_jars()
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    props = workdir / "server.properties"
    props.touch(mode=0o600)
    props.chmod(0o600)
    props.write_text(_server_properties(port, controller_port, data_dir, passwords))
    log4j = workdir / "log4j2.properties"
    log4j.write_text(
        resources.files("riskstream.services").joinpath("kafka-log4j2.properties").read_text()
    )
    java = ["java", "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*"]
    if not (data_dir / "meta.properties").exists():
        cluster_id = new_cluster_id()
        users = [arg for role in ROLES for arg in
                 ("--add-scram", f"{MECHANISM}=[name={role_user(role)},password={passwords[role]}]")]
        fmt = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props), *users],
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


KAFKA_CREDENTIALS = "credentials.json"
log = logging.getLogger(__name__)


def kafka_credentials(workdir: Path) -> dict[str, str]:
    """The Kafka users' passwords for the broker in ``workdir``. Its users are written into its
    data when the data is formatted, so a broker formatted before (``services down`` keeps the
    data but forgets ``services.json``) takes the passwords it was formatted with, kept beside
    it (0600). Data formatted without them (an older riskstream) can never be logged into:
    moved aside, not deleted, and the broker starts afresh."""
    saved, data = workdir / KAFKA_CREDENTIALS, workdir / "data"
    wanted = {*ROLES, "controller"}
    if (data / "meta.properties").exists():
        try:
            known = json.loads(saved.read_text())
        except (OSError, ValueError):
            known = None
        if isinstance(known, dict) and set(known) == wanted:
            return {str(k): str(v) for k, v in known.items()}
        aside = workdir / f"data.no-credentials-{secrets.token_hex(4)}"
        data.rename(aside)
        log.warning("Kafka data in %s was formatted with users whose passwords are lost: moved "
                    "aside to %s, starting a fresh broker", data, aside)
    passwords = {role: secrets.token_urlsafe(18) for role in sorted(wanted)}
    workdir.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.chmod(0o600)
    saved.write_text(json.dumps(passwords))
    return passwords
