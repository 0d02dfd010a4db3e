"""The console refuses what it must, with the right status, changes nothing, and audits it:
wrong password, throttled logins, expired / forged / revoked sessions, missing CSRF tokens,
another district's alert, a role's overreach, and injection in comments and filters."""

from __future__ import annotations

import time
from typing import Any

from riskstream.events import AlertStatus
from tests.unit.center.conftest import PASSWORD, Console, csrf_of, login


def post_action(client: Any, alert_id: str, body: dict[str, Any], csrf: str | None) -> Any:
    headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
    return client.post(f"/api/alerts/{alert_id}/actions", json=body, headers=headers)


def test_login_wrong_password_then_throttled(console: Console) -> None:
    client = console.client_for(None)
    for _ in range(3):
        assert login(client, "city", "wrong password!").status_code == 401
    # the right password no longer helps while the window lasts
    refused = login(client, "city", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert client.get("/api/alerts").status_code == 401
    outcomes = [(r["action"], r["outcome"]) for r in console.audited()]
    assert outcomes.count(("login", "failed")) == 3 and ("login", "throttled") in outcomes


def test_login_without_the_form_token_is_refused(console: Console) -> None:
    client = console.client_for(None)
    r = client.post("/login", data={"username": "city", "password": PASSWORD})
    assert r.status_code == 403 and "rs_session" not in client.cookies


def test_forged_expired_and_revoked_sessions(console: Console) -> None:
    forged = console.client_for(None)
    forged.cookies.set("rs_session", "forged-session-value")
    assert forged.get("/api/alerts").status_code == 401
    assert forged.get("/", follow_redirects=False).status_code == 303
    client = console.client_for("city")
    assert client.get("/api/alerts").status_code == 200
    console.accounts.clock = lambda: 10**12  # far past the idle timeout
    assert client.get("/api/alerts").status_code == 401
    console.accounts.clock = time.time
    again = console.client_for("city")
    csrf = csrf_of(again)
    cookie = again.cookies.get("rs_session")
    assert again.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    stolen = console.client_for(None)
    stolen.cookies.set("rs_session", cookie or "")
    assert stolen.get("/api/alerts").status_code == 401  # revoked at logout


def test_state_changes_need_the_csrf_token(console: Console) -> None:
    client = console.client_for("city")
    east = console.alerts["east"]
    for csrf in (None, "not-the-token"):
        r = post_action(client, east.alert_id, {"action": "acknowledge"}, csrf)
        assert r.status_code == 403
    held = console.board.get(east.alert_id)
    assert held is not None and held.status is AlertStatus.OPEN and held.revision == 1
    assert [r["detail"] for r in console.audited() if r["status"] == 403] == [
        "CSRF token missing or wrong"] * 2


def test_a_district_operator_cannot_see_or_act_on_another_district(console: Console) -> None:
    west = console.alerts["west"]
    client = console.client_for("binhai")
    csrf = csrf_of(client)
    listed = client.get("/api/alerts").json()["alerts"]
    assert [a["district"] for a in listed] == ["binhai"]
    assert client.get(f"/api/alerts/{west.alert_id}").status_code == 404
    assert client.get(f"/alerts/{west.alert_id}").status_code == 404
    assert client.get(f"/api/alerts/{west.alert_id}/events").status_code == 404
    r = post_action(client, west.alert_id, {"action": "acknowledge"}, csrf)
    assert r.status_code == 404
    assert client.post("/api/sites/school-1/targets/gas-1/actions", json={"action": "out_of_service"},
                       headers={"X-CSRF-Token": csrf}).status_code == 404
    assert console.board.get(west.alert_id).revision == 1  # type: ignore[union-attr]
    denied = [r for r in console.audited() if r["outcome"] == "denied"]
    assert {r["alert_id"] for r in denied} >= {west.alert_id} and all(r["actor"] == "binhai" for r in denied)
    # the filter cannot widen the scope either
    assert client.get("/api/alerts", params={"district": "xicheng"}).json()["alerts"] == []


def test_roles_the_viewer_reads_and_operators_cannot_shelve(console: Console) -> None:
    east = console.alerts["east"]
    viewer = console.client_for("auditor")
    assert len(viewer.get("/api/alerts").json()["alerts"]) == 2
    r = post_action(viewer, east.alert_id, {"action": "acknowledge"}, csrf_of(viewer))
    assert r.status_code == 403
    operator = console.client_for("city")
    r = post_action(operator, east.alert_id, {"action": "shelve", "comment": "x", "duration_s": 60},
                    csrf_of(operator))
    assert r.status_code == 403 and "may not shelve" in r.json()["error"]
    assert console.board.get(east.alert_id).status is AlertStatus.OPEN  # type: ignore[union-attr]


def test_injection_in_comments_and_filters_is_inert(console: Console) -> None:
    east = console.alerts["east"]
    client = console.client_for("city")
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>'; DROP TABLE alerts; --"
    r = post_action(client, east.alert_id, {"action": "comment", "comment": evil}, csrf_of(client))
    assert r.status_code == 200
    page = client.get(f"/alerts/{east.alert_id}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "\\u003cscript\\u003e" in page  # kept as data, escaped in the page's JSON
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]
    r = client.get("/api/alerts", params={"site": "' OR 1=1 --", "status": "<b>"})
    assert r.status_code == 200 and r.json()["alerts"] == []


def test_malformed_action_bodies_get_400_and_change_nothing(console: Console) -> None:
    east = console.alerts["east"]
    client = console.client_for("city")
    csrf = csrf_of(client)
    for body in ({"action": "explode"}, {"action": "shelve", "duration_s": "soon"}):
        assert post_action(client, east.alert_id, body, csrf).status_code in (400, 403)
    r = client.post(f"/api/alerts/{east.alert_id}/actions", content=b"[1,2", headers={
        "X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert console.board.get(east.alert_id).revision == 1  # type: ignore[union-attr]
