"""Eclipse Mosquitto 2.0 (Debian package) with password authentication on a loopback port."""

from __future__ import annotations

import getpass
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from riskstream.services.process import ServiceError, port_open, spawn, wait_until


@dataclass(frozen=True)
class MosquittoProcess:
    pid: int
    port: int
    username: str
    password: str
    log: Path


def _require(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists()
                                    else None)
    if path is None:
        raise ServiceError(f"'{binary}' not found: install Eclipse Mosquitto with: "
                           "sudo apt-get install -y mosquitto")
    return path


def start_mosquitto(
    workdir: Path, port: int, username: str, password: str, timeout: float = 20.0
) -> MosquittoProcess:
    broker = _require("mosquitto")
    passwd_tool = _require("mosquitto_passwd")
    workdir.mkdir(parents=True, exist_ok=True)
    passwd = workdir / "passwd"
    passwd.unlink(missing_ok=True)
    made = subprocess.run([passwd_tool, "-b", "-c", str(passwd), username, password],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise ServiceError(f"mosquitto_passwd failed: {made.stderr.strip()}")
    passwd.chmod(0o600)
    conf = workdir / "mosquitto.conf"
    log = workdir / "mosquitto.log"
    conf.write_text("\n".join([
        f"listener {port} 127.0.0.1",
        "allow_anonymous false",
        f"password_file {passwd}",
        # Started as root, mosquitto would switch to the 'mosquitto' user and lose access
        # to our files; stay the user who started it.
        f"user {getpass.getuser()}",
        "persistence false",
        "max_queued_messages 100000",
        # The edge acknowledges QoS 1 messages after its group commit (a few ms later); the
        # default of 20 unacknowledged messages per client would cap it at a few thousand/s.
        "max_inflight_messages 1000",
        "log_dest stdout",
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
