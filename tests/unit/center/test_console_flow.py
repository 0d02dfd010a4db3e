"""The console's happy paths on the in-memory driver: the board in GB/T 50493 order, actions
answered by the real correlator core, refusals with the correlator's reason, bearer tokens,
the live stream's snapshot and replay, and the OpenAPI document."""

from __future__ import annotations

import json
from dataclasses import replace

from riskstream.alarms.roles import Role
from riskstream.center.accounts import User
from riskstream.center.board import Board
from riskstream.center.web import openapi_document
from riskstream.events import AlertStatus
from tests.unit.center.conftest import Console, csrf_of


def test_acknowledge_then_resolve_needs_the_reason(console: Console) -> None:
    east = console.alerts["east"]
    client = console.client_for("city")
    csrf = csrf_of(client)
    r = client.post(f"/api/alerts/{east.alert_id}/actions", json={"action": "acknowledge"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["alert"]["status"] == "acknowledged"
    r = client.post(f"/api/alerts/{east.alert_id}/actions", json={"action": "resolve"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409 and "reason" in r.json()["error"]  # the correlator's words
    r = client.post(f"/api/alerts/{east.alert_id}/actions", headers={"X-CSRF-Token": csrf},
                    json={"action": "resolve", "comment": "false alarm: calibration gas",
                          "action_taken": "told the maintenance crew"})
    assert r.status_code == 200 and r.json()["alert"]["status"] == "resolved"
    audit = [(x["actor"], x["action"], x["outcome"]) for x in console.audited()]
    assert ("city", "acknowledge", "ok") in audit and ("city", "resolve", "refused") in audit


def test_supervisor_shelves_and_takes_a_device_out_of_service(console: Console) -> None:
    east = console.alerts["east"]
    boss = console.client_for("boss")
    csrf = csrf_of(boss)
    r = boss.post(f"/api/alerts/{east.alert_id}/actions", headers={"X-CSRF-Token": csrf},
                  json={"action": "shelve", "comment": "crew on site", "duration_s": 99999})
    assert r.status_code == 200
    shelved = r.json()["alert"]
    assert shelved["status"] == "shelved" and shelved["lifecycle"]["shelved_until"]
    r = boss.post("/api/sites/plant-east/targets/gas-1/actions", headers={"X-CSRF-Token": csrf},
                  json={"action": "out_of_service", "comment": "sensor head replaced"})
    assert r.status_code == 200 and r.json()["alert"]["status"] == "out_of_service"
    r = boss.post("/api/sites/plant-east/targets/gas-9/actions", headers={"X-CSRF-Token": csrf},
                  json={"action": "out_of_service", "comment": "x"})
    assert r.status_code == 409 and "not configured" in r.json()["error"]


def test_board_order_and_bearer_tokens(console: Console) -> None:
    token = console.accounts.new_token("city", "integration")
    api = console.client_for(None)
    r = api.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
    ids = [a["alert_id"] for a in r.json()["alerts"]]
    # both open; the plant's critical level-2 alert ranks above the school's major one
    assert ids == [console.alerts["east"].alert_id, console.alerts["west"].alert_id]
    east = console.alerts["east"].alert_id
    r = api.post(f"/api/alerts/{east}/actions", json={"action": "claim"},
                 headers={"Authorization": f"Bearer {token}"})  # no cookie: no CSRF needed
    assert r.status_code == 200 and r.json()["alert"]["lifecycle"]["claimed_by"] == "city"
    assert api.get("/api/alerts", headers={"Authorization": "Bearer rst_forged"}).status_code == 401


def test_board_replay_by_event_id_and_snapshot_after_a_restart(console: Console) -> None:
    board, user = console.board, User("city", Role.CITY_OPERATOR)
    seq = board.seq
    east = console.alerts["east"]
    board.apply(replace(east, revision=2, status=AlertStatus.ACKNOWLEDGED))
    changed = board.since(board.parse_event_id(board.event_id(seq)) or 0, user)
    assert changed is not None and [a.revision for a in changed] == [2]
    restarted = Board(boot="other")
    assert restarted.parse_event_id(board.event_id(seq)) is None  # -> a fresh snapshot
    assert board.apply(replace(east, revision=2)) is False  # not newer: ignored


def test_openapi_document_lists_the_api() -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.") and "/api/alerts/{alert_id}/actions" in doc["paths"]
    json.dumps(doc)
