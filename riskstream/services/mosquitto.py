"""Eclipse Mosquitto 2.0 (Debian package) on a loopback port: password authentication, topic
ACLs (:mod:`riskstream.services.mqtt_accounts`), persistence, failed logins logged."""

from __future__ import annotations

import getpass
import shutil
from dataclasses import dataclass
from pathlib import Path

from riskstream.services.mqtt_accounts import Account, AccountFiles
from riskstream.services.process import ServiceError, port_open, spawn, wait_until

# Mosquitto writes its in-memory store (retained messages, persistent sessions and their
# queued QoS 1 messages) every AUTOSAVE_S and at shutdown; a broker restart keeps them.
AUTOSAVE_S = 5


@dataclass(frozen=True)
class MosquittoProcess:
    pid: int
    port: int
    username: str
    password: str
    log: Path


def require_binary(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists()
                                    else None)
    if path is None:
        raise ServiceError(f"'{binary}' not found: install Eclipse Mosquitto with: "
                           "sudo apt-get install -y mosquitto")
    return path


def start_mosquitto(
    workdir: Path, port: int, username: str, password: str, timeout: float = 20.0
) -> MosquittoProcess:
    broker = require_binary("mosquitto")
    passwd_tool = require_binary("mosquitto_passwd")
    workdir.mkdir(parents=True, exist_ok=True)
    files = AccountFiles(workdir)
    accounts = files.load()  # the accounts granted so far (riskstream mqtt accounts) stay
    accounts.setdefault(username, Account(password)).password = password
    try:
        files.write(accounts, passwd_tool)
    except RuntimeError as exc:
        raise ServiceError(str(exc)) from None
    conf = workdir / "mosquitto.conf"
    log = workdir / "mosquitto.log"
    conf.write_text("\n".join([
        f"listener {port} 127.0.0.1",
        "allow_anonymous false",
        f"password_file {files.passwd}",
        f"acl_file {files.acl}",
        # Started as root, mosquitto would switch to the 'mosquitto' user and lose access
        # to our files; stay the user who started it.
        f"user {getpass.getuser()}",
        "persistence true",
        f"persistence_location {workdir}/",
        f"autosave_interval {AUTOSAVE_S}",
        "max_queued_messages 100000",
        # The edge acknowledges QoS 1 messages after its group commit (a few ms later); the
        # default of 20 unacknowledged messages per client would cap it at a few thousand/s.
        "max_inflight_messages 1000",
        f"log_dest file {log}",  # flushed per line (stdout to a file is block-buffered)
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        "",
    ]))
    pid = spawn([broker, "-c", str(conf)], log)
    wait_until(lambda: port_open("127.0.0.1", port), pid=pid, what="Mosquitto", log_path=log,
               timeout=timeout)
    return MosquittoProcess(pid=pid, port=port, username=username, password=password, log=log)
