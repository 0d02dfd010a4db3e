"""The console on an in-memory driver: the real Starlette app, accounts in a temporary SQLite
file, and a real correlator core (SiteProcessor) answering actions in place of Kafka."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from riskstream.center.accounts import Accounts
from riskstream.center.audit import AuditLog
from riskstream.center.board import Board
from riskstream.center.devices import HeartbeatBook, device_health, site_overview
from riskstream.center.evidence import EvidenceStore
from riskstream.center.web import Center, create_app
from riskstream.config.loader import parse
from riskstream.config.schema import CenterSettings
from riskstream.events import Alert, AlertAction, utc_now
from riskstream.streams.correlate import SiteProcessor
from tests.unit.test_rules import RULES_CONFIG, feed, gas, motion, ms

PASSWORD = "correct horse battery"


class MemoryClickHouse:
    """Stands in for ClickHouse's insert (the audit) in unit tests only."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def insert(self, table: str, rows: list[list[Any]], column_names: list[str]) -> None:
        self.rows += [dict(zip(column_names, r, strict=True)) for r in rows]


@dataclass
class Console:
    client_for: Any
    board: Board
    accounts: Accounts
    audit: AuditLog
    store: MemoryClickHouse
    evidence: EvidenceStore
    beats: HeartbeatBook
    center: Center
    alerts: dict[str, Alert] = field(default_factory=dict)

    def audited(self) -> list[dict[str, Any]]:
        self.audit._flush()
        return self.store.rows


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    cfg = parse(RULES_CONFIG.replace("  rules:\n", "  max_shelve_s: 3600\n  rules:\n"))
    processor = SiteProcessor(cfg)
    board = Board({"plant-east": 1})
    state: dict[str, Any] = {"plant-east": None}

    def send(action: AlertAction) -> None:  # the correlator's answer, in memory
        new, result = processor.on_action(state.get(action.site_id), action, ms(60))
        state[action.site_id] = new
        if result.rejected:
            board.refused(action.action_id, result.rejected)
        for alert in result.alerts:
            board.apply(alert)

    state["plant-east"], (east,) = feed(processor, None, [gas(0), motion(10)])
    board.apply(east)
    west = Alert(rule="gas-motion", site_id="school-1", district="xicheng", severity="major",
                 first_ts=east.first_ts, last_ts=east.last_ts, event_ids=("e1",),
                 explanation="another district's alert")
    board.apply(west)
    board.ready = True
    accounts = Accounts(tmp_path / "center.db")
    for name, role, district in (("city", "city_operator", ""), ("binhai", "district_operator", "binhai"),
                                 ("xicheng", "district_operator", "xicheng"),
                                 ("boss", "supervisor", ""), ("auditor", "viewer", "")):
        accounts.add_user(name, PASSWORD, role, district)
    store = MemoryClickHouse()
    audit = AuditLog(store, "rs")
    evidence = EvidenceStore(tmp_path / "evidence", 30, 10 * 2**20, [s.id for s in cfg.sites])
    beats = HeartbeatBook()

    def devices() -> list[dict[str, Any]]:
        return device_health(cfg, beats.all(), board.all(), utc_now())

    center = Center(CenterSettings(action_wait_s=1.0, login_attempts=3), accounts, board, audit,
                    send, site_districts={"plant-east": "binhai", "school-1": "xicheng"},
                    evidence=evidence, devices=devices,
                    sites=lambda rows: site_overview(cfg, rows, board.all(), {"plant-east": 1}))
    app = create_app(center)

    def client_for(name: str | None) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        if name is not None:
            login(client, name)
        return client

    yield Console(client_for, board, accounts, audit, store, evidence, beats, center,
                  {"east": east, "west": west})


def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/login", data={"username": name, "password": password,
                                       "login_token": token.group(1)}, follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)
