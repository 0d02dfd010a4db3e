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

from riskstream.config.schema import Config
from riskstream.kafka_preflight import require_accepted
from riskstream.logs import RepeatFilter
from riskstream.metrics_http import serve_metrics
from riskstream.storage.clickhouse import connect
from riskstream.storage.errors import auth_failed, describe
from riskstream.storage.migrations import apply_retention, migrate
from riskstream.streams.app import app_id, create_app
from riskstream.streams.watchdog import STALL_EXIT_CODE, StallWatchdog

log = logging.getLogger(__name__)
SUPERVISED_ENV = "RS_WORKER_SUPERVISED"
# The child stopped on its user's mistake (a config, a missing or refused password), told in
# one line: the CLI's exit code for it. A fresh child would stop the same way: not restarted.
USER_ERROR_EXIT = 2
PR_SET_PDEATHSIG = 1


def _clickhouse(cfg: Config, attempts: int = 30) -> Any:
    """Connect and migrate, waiting for ClickHouse to come up (it may start after us)."""
    for attempt in range(1, attempts + 1):
        try:
            client = connect(cfg.clickhouse)
            applied = migrate(client, cfg.clickhouse.database)
            ttl: dict[str, int] = {str(k): v for k, v in cfg.clickhouse.ttl_days.items()}
            apply_retention(client, cfg.clickhouse.database, ttl)
        except Exception as exc:
            if attempt == attempts or auth_failed(exc):  # a refused password stays refused
                raise
            log.warning("clickhouse not ready (%s); retry %d/%d",
                        describe(exc, cfg.clickhouse.dsn), attempt, attempts)
            time.sleep(min(5.0, 0.5 * attempt))
            continue
        log.info("clickhouse ready dsn=%s database=%s migrations_applied=%s",
                 cfg.clickhouse.dsn, cfg.clickhouse.database, applied or "none")
        return client
    raise AssertionError("unreachable")


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies (even by SIGKILL), so
    a Faust worker is never left consuming on its own. Linux only; elsewhere a no-op."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the supervisor died before prctl took effect
        os._exit(1)


def supervise(argv: list[str], backoff: tuple[float, float] = (1.0, 30.0)) -> int:
    """Run the worker in a child process and start a fresh one whenever it exits other than
    by our own stop: a stall (the watchdog), a batch it could not deliver, or a crash.
    Restarts back off (doubling up to ``backoff[1]``) while children keep dying young. A child
    that stopped on its user's mistake (``USER_ERROR_EXIT``: it said why) ends the command."""
    child_env = {**os.environ, SUPERVISED_ENV: "1"}
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    delay = backoff[0]
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "riskstream", *argv], env=child_env,
                                 preexec_fn=_die_with_parent)
        code = child.wait()
        if stopping or code == 0:
            return code
        if code == USER_ERROR_EXIT:
            log.error("worker pid %d stopped on an error a restart cannot mend (see above); "
                      "not restarting", child.pid)
            return code
        if time.monotonic() - started > 60:
            delay = backoff[0]  # it ran a good while: this is a new problem, restart at once
        why = "stalled" if code == STALL_EXIT_CODE else f"exited with code {code}"
        log.error("worker pid %d %s; starting a fresh one in %.0f s", child.pid, why, delay)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
        delay = min(delay * 2, backoff[1])
    return 0


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
    require_accepted(cfg.kafka, "worker")  # a refused password: exit 2, not a restart loop
    if role in ("all", "store"):
        _clickhouse(cfg)  # wait for it and migrate before consuming anything
    port = serve_metrics(cfg.worker.metrics_port, "worker")
    # Each worker process needs its own table store folder (its metrics port is unique).
    datadir = state_dir / "faust" / f"{app_id(cfg, role)}-{port or 'w'}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = create_app(cfg, role, datadir, lambda: connect(cfg.clickhouse))
    if cfg.worker.stall_timeout_s > 0:
        _watch(app, cfg, role)
    _worker_class()(app, loglevel=loglevel, quiet=True).execute_from_commandline()


def _worker_class() -> Any:
    from faust import worker

    class Worker(worker.Worker):  # its name is in Faust's "[^Worker]: Ready" line
        """Faust replaces the root logger's handlers: collapse repeated lines on its own."""

        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            for handler in logger.handlers:
                handler.addFilter(RepeatFilter())

    return Worker
