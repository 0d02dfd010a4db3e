"""``riskstream center serve``: put the parts together and serve the console until stopped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from riskstream.center.accounts import Accounts
from riskstream.center.audit import AuditLog
from riskstream.center.board import Board
from riskstream.center.data import CenterData
from riskstream.center.devices import HeartbeatBook, device_health, site_overview
from riskstream.center.evidence import EvidenceStore
from riskstream.center.feed import AlertFeed, EvidenceFeed
from riskstream.center.web import Center, create_app
from riskstream.config.schema import Config
from riskstream.events import utc_now

log = logging.getLogger(__name__)


class ConsoleError(RuntimeError):
    """A setup problem the operator can fix (said in one line, no traceback)."""


def accounts_for(cfg: Config, state_dir: Path) -> Accounts:
    return Accounts(state_dir / "center" / "center.db", cfg.center.session_idle_s,
                    cfg.center.session_max_s)


def serve(cfg: Config, state_dir: Path, port: int | None = None) -> None:
    import uvicorn

    from riskstream.kafka_preflight import require_accepted
    from riskstream.services.process import free_port
    from riskstream.storage.clickhouse import connect, normalise_dsn
    from riskstream.storage.migrations import apply_retention, migrate

    if normalise_dsn(cfg.clickhouse.dsn).startswith("chdb://"):
        raise ConsoleError("the console needs ClickHouse over HTTP (the embedded engine belongs "
                           "to the worker): run `riskstream services up` and `eval $(riskstream "
                           "services env)`, or set RS_CLICKHOUSE_DSN")
    accounts = accounts_for(cfg, state_dir)
    if not accounts.has_admin():
        raise ConsoleError("no admin yet: riskstream center create-admin --username NAME")
    require_accepted(cfg.kafka, "center")  # a refused login: one line, not a console without alerts
    writer = connect(cfg.clickhouse)
    migrate(writer, cfg.clickhouse.database)
    apply_retention(writer, cfg.clickhouse.database,
                    {"center_audit": cfg.center.audit_retention_days})
    grades = {s.id: s.major_hazard_grade for s in cfg.sites}
    board = Board(grades, cfg.center.resolved_kept)
    beats = HeartbeatBook()
    feed = AlertFeed(cfg.kafka, board, beats, cfg.center.health_replay_s)
    store = evidence_store(cfg, state_dir)
    evidence_feed = EvidenceFeed(cfg.kafka, store, feed.dead_letter)
    audit = AuditLog(writer, cfg.clickhouse.database)
    data = CenterData(connect(cfg.clickhouse, analyst=True), cfg, board)

    def health() -> list[dict[str, Any]]:
        return device_health(cfg, beats.all(), board.all(), utc_now())

    center = Center(cfg.center, accounts, board, audit, feed.send, readings=data.readings,
                    events=data.events, kpis=data.kpis,
                    site_districts={s.id: s.district for s in cfg.sites}, evidence=store,
                    devices=health,
                    sites=lambda rows: site_overview(cfg, rows, board.all(), grades))
    chosen = port if port is not None else cfg.center.port
    chosen = chosen or free_port(cfg.center.host)
    feed.start()
    evidence_feed.start()
    audit.start()
    print(f"console on http://{cfg.center.host}:{chosen}/", flush=True)
    try:
        uvicorn.run(create_app(center), host=cfg.center.host, port=chosen, log_level="warning",
                    access_log=False, timeout_graceful_shutdown=2)
    finally:
        feed.stop()
        evidence_feed.stop()
        store.close()
        audit.stop()


def evidence_store(cfg: Config, state_dir: Path) -> EvidenceStore:
    """The console's snapshot store (under the state folder, owner-only)."""
    return EvidenceStore(state_dir / "center" / "evidence", cfg.center.evidence_retention_days,
                         int(cfg.center.evidence_max_mb * 2**20), [s.id for s in cfg.sites])
