"""Start and stop riskstream's own processes (edge agent, stream worker) as real subprocesses.

The demo and the integration tests drive the pipeline through this one module: each process
gets the services' ``RS_*`` environment, a free metrics port and a log file, and is stopped by
its PID (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from riskstream.metrics_http import TOKEN_ENV
from riskstream.promscrape import scrape, total
from riskstream.services.process import (
    ServiceError,
    free_port,
    log_tail,
    pid_alive,
    spawn,
    stop_pid,
    wait_until,
)


@dataclass
class RiskstreamProcess:
    role: str  # "edge" | "worker"
    pid: int
    metrics_port: int
    log: Path
    metrics_token: str = ""

    def metric(self, name: str, **labels: str) -> float:
        return total(scrape(self.metrics_port, self.metrics_token), name, **labels)

    def alive(self) -> bool:
        return pid_alive(self.pid)

    def stop(self, timeout: float = 30.0) -> None:
        stop_pid(self.pid, timeout=timeout)

    def kill(self) -> None:
        import signal

        stop_pid(self.pid, timeout=0.0, sig=signal.SIGKILL)


def start_process(
    role: str, config: Path, state_dir: Path, env: dict[str, str], log_dir: Path,
    extra_args: list[str] | None = None,
) -> RiskstreamProcess:
    """Start ``riskstream <role>`` and return once it is ready to work."""
    port = free_port()
    child_env = {**os.environ, **env, f"RS_{role.upper()}_METRICS_PORT": str(port),
                 "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "riskstream", role, "--config", str(config)]
    cmd += ["--state-dir", str(state_dir)]
    cmd += extra_args or []
    log = log_dir / f"{role}-{port}.log"
    pid = spawn(cmd, log, env=child_env)
    proc = RiskstreamProcess(role, pid, port, log, child_env.get(TOKEN_ENV, ""))
    ready = _edge_ready if role == "edge" else _worker_ready
    try:
        wait_until(lambda: ready(proc), pid=pid, what=f"riskstream {role}", log_path=log,
                   timeout=90)
    except ServiceError:
        proc.stop(5)
        raise
    return proc


def _edge_ready(proc: RiskstreamProcess) -> bool:
    return proc.metric("riskstream_edge_mqtt_connected") >= 1


def _worker_ready(proc: RiskstreamProcess) -> bool:
    # Faust prints "[^Worker]: Ready" once partitions are assigned and fetching started.
    return "[^Worker]: Ready" in proc.log.read_text(errors="replace")


def wait_for_metric(
    proc: RiskstreamProcess, name: str, at_least: float, timeout: float, **labels: str
) -> float:
    """Wait until metric ``name`` of ``proc`` reaches ``at_least``; returns the last value."""
    deadline = time.monotonic() + timeout
    value = proc.metric(name, **labels)
    while value < at_least and time.monotonic() < deadline:
        if not proc.alive():
            raise ServiceError(f"riskstream {proc.role} died; log {proc.log}:\n{log_tail(proc.log)}")
        time.sleep(0.2)
        value = proc.metric(name, **labels)
    return value


def start_center(config: Path, state_dir: Path, env: dict[str, str], log_dir: Path,
                 port: int | None = None) -> tuple[RiskstreamProcess, str]:
    """Start ``riskstream center serve`` and return it with its URL once it answers."""
    import urllib.request

    port = port or free_port()
    cmd = [sys.executable, "-m", "riskstream", "center", "serve", "--config", str(config),
           "--state-dir", str(state_dir), "--port", str(port)]
    log = log_dir / f"center-{port}-{time.time_ns()}.log"
    pid = spawn(cmd, log, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"})
    proc = RiskstreamProcess("center", pid, port, log)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    try:
        wait_until(answers, pid=pid, what="riskstream center", log_path=log, timeout=60)
    except ServiceError:
        proc.stop(5)
        raise
    return proc, url
