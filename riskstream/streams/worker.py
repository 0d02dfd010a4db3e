"""Entry point of a stream worker process: schema, metrics, then the Faust worker loop."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from riskstream.config.schema import Config
from riskstream.storage.clickhouse import connect
from riskstream.storage.migrations import apply_retention, migrate
from riskstream.streams.app import app_id, create_app
from riskstream.streams.watchdog import STALL_EXIT_CODE, StallWatchdog

log = logging.getLogger(__name__)
SUPERVISED_ENV = "RS_WORKER_SUPERVISED"


def _clickhouse(cfg: Config, attempts: int = 30) -> Any:
    """Connect and migrate, waiting for ClickHouse to come up (it may start after us)."""
    for attempt in range(1, attempts + 1):
        try:
            client = connect(cfg.clickhouse)
            applied = migrate(client, cfg.clickhouse.database)
            ttl: dict[str, int] = {str(k): v for k, v in cfg.clickhouse.ttl_days.items()}
            apply_retention(client, cfg.clickhouse.database, ttl)
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("clickhouse not ready (%s); retry %d/%d", exc, attempt, attempts)
            time.sleep(min(5.0, 0.5 * attempt))
            continue
        log.info("clickhouse ready dsn=%s database=%s migrations_applied=%s",
                 cfg.clickhouse.dsn, cfg.clickhouse.database, applied or "none")
        return client
    raise AssertionError("unreachable")


def supervise(argv: list[str]) -> int:
    """Run the worker in a child process; start a fresh one when it reports a stall."""
    child_env = {**os.environ, SUPERVISED_ENV: "1"}
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        child = subprocess.Popen([sys.executable, "-m", "riskstream", *argv], env=child_env)
        code = child.wait()
        if code != STALL_EXIT_CODE:
            return code
        log.error("worker pid %d stalled; starting a fresh one", child.pid)


def _watch(app: Any, cfg: Config, role: str) -> None:
    topics = cfg.kafka.topics
    sources = {"correlate": {topics.events, topics.alert_actions, topics.health},
               "store": {topics.events, topics.alerts, topics.readings}}
    watched = sources.get(role, sources["correlate"] | sources["store"])

    def assigned() -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in app.assignor.assigned_actives()
                if tp.topic in watched}

    def on_stall(reason: str) -> None:
        log.error("stalled consumer: %s; exiting for a restart", reason)
        os._exit(STALL_EXIT_CODE)

    StallWatchdog(cfg.kafka, app_id(cfg, role), assigned, cfg.worker.stall_timeout_s,
                  on_stall).start()


def run_worker(cfg: Config, state_dir: Path, role: str = "all", loglevel: str = "INFO") -> None:
    from faust.worker import Worker

    if role in ("all", "store"):
        _clickhouse(cfg)  # wait for it and migrate before consuming anything
    if cfg.worker.metrics_port:
        start_http_server(cfg.worker.metrics_port, addr="127.0.0.1")
        log.info("metrics on http://127.0.0.1:%d/metrics", cfg.worker.metrics_port)
    # Each worker process needs its own table store folder.
    datadir = state_dir / "faust" / f"{app_id(cfg, role)}-{cfg.worker.metrics_port or 'w'}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = create_app(cfg, role, datadir, lambda: connect(cfg.clickhouse))
    if cfg.worker.stall_timeout_s > 0:
        _watch(app, cfg, role)
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
