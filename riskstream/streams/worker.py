"""Entry point of a stream worker process: schema, metrics, then the Faust worker loop."""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import start_http_server

from riskstream.config.schema import Config
from riskstream.storage.clickhouse import connect
from riskstream.streams.app import create_app
from riskstream.streams.sinks.clickhouse import ClickHouseEventSink

log = logging.getLogger(__name__)


def run_worker(cfg: Config, state_dir: Path, loglevel: str = "INFO") -> None:
    from faust.worker import Worker

    client = connect(cfg.clickhouse)
    sink = ClickHouseEventSink(client, cfg.clickhouse.database)
    applied = sink.ensure_schema()
    log.info("clickhouse ready dsn=%s database=%s migrations_applied=%s",
             cfg.clickhouse.dsn, cfg.clickhouse.database, applied or "none")
    if cfg.worker.metrics_port:
        start_http_server(cfg.worker.metrics_port, addr="127.0.0.1")
        log.info("metrics on http://127.0.0.1:%d/metrics", cfg.worker.metrics_port)
    datadir = state_dir / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    app = create_app(cfg, sink, datadir)
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
