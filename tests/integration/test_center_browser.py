"""The command-center console in a real browser on the real stack.

Mosquitto -> edge -> Kafka -> correlator -> rs.alerts -> ``riskstream center serve`` -> headless
Chromium (Debian's package, driven by Playwright). Checks, by trying: log in; an alert raised by
readings published over MQTT appears on the board without a reload; its page shows the
contributing events and the readings chart; an acknowledgement in one session shows in a second;
a shelved alert comes back on expiry; a restarted server loses no alarm raised meanwhile; a
district operator cannot see or act on another district's alert through the page, the API, the
live stream or the alert page URL; the audit trail in ClickHouse holds each attempt.

A second stack adds a camera (a real MJPEG-over-HTTP stream): its incident's snapshot travels
edge -> rs.evidence -> the console's store, shows on the alert page with the hash the edge
wrote, and is refused to another district's operator; the site overview and device health
pages show the camera, the sensors and the edge.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.launch import start_center, start_process, wait_for_metric
from riskstream.services import ServiceInfo
from riskstream.storage.clickhouse import connect
from riskstream.testing import config_publisher, wait_for
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "duty-officer-2026"

CONFIG = """\
sites:
  - {{id: plant-a, name: Plant A, district: harbour, kind: chemical_plant, major_hazard_grade: 1,
     risk_points: [{{id: tank-farm, name: Tank farm}}, {{id: loading-bay, name: Loading bay}}]}}
  - {{id: plant-b, name: Plant B, district: hillside, kind: chemical_plant,
     risk_points: [{{id: reactor, name: Reactor}}]}}
sensors:
  - {{id: gas-a, site: plant-a, point: tank-farm, metric: combustible_gas, unit: "%LEL",
     topic: c{u}/plant-a/gas-a, thresholds: {{warning: 25, alarm: 50}}}}
  - {{id: gas-a2, site: plant-a, point: loading-bay, metric: combustible_gas, unit: "%LEL",
     topic: c{u}/plant-a/gas-a2, thresholds: {{warning: 25, alarm: 50}}}}
  - {{id: h2s-b, site: plant-b, point: reactor, metric: h2s, unit: ppm,
     topic: c{u}/plant-b/h2s-b, thresholds: {{warning: 10, alarm: 20}}}}
kafka:
  partitions: 2
  topics: {{events: c-{u}.events, dlq: c-{u}.dlq, readings: c-{u}.readings,
           health: c-{u}.health, alerts: c-{u}.alerts, alert_actions: c-{u}.actions,
           evidence: c-{u}.evidence}}
mqtt: {{username: riskstream-edge, client_id: center-{u}}}
clickhouse: {{database: center_{u}, batch_size: 50, batch_seconds: 0.3}}
edge: {{heartbeat_s: 2, incident_update_s: 2, incident_end_s: 1}}
worker: {{app_id: center-{u}, session_timeout_s: 6}}
correlation:
  max_shelve_s: 3600
  rules:
    - name: gas-rising
      type: count
      severity: critical
      threshold: 2
      window_s: 600
      scope: point
      match: {{kind: sensor.threshold, min_severity: warning}}
"""
CAMERA = """\
cameras:
  - {{id: cam-a, site: plant-a, point: loading-bay, url: '{url}', fps: 5, open_timeout_s: 5,
     read_timeout_s: 3, detectors: [{{type: zone_motion}}],
     zones: [{{name: bay, polygon: [[0, 0.25], [1, 0.25], [1, 1], [0, 1]], restricted: true}}]}}
"""
CAMERA_RULE = """\
    - name: bay-intrusion
      type: count
      severity: major
      threshold: 2
      window_s: 600
      scope: zone
      match: {kind: video.intrusion}
"""


def needs_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/bootstrap.sh does)")


class Stack:
    def __init__(self, services: ServiceInfo, unique: str, workdir: Path,
                 camera_url: str = "") -> None:
        self.u, self.workdir, self.env = unique, workdir, services.env()
        self.config = workdir / "center.yaml"
        text = CONFIG.format(u=unique)
        if camera_url:
            text = text.replace("kafka:\n", CAMERA.format(url=camera_url) + "kafka:\n", 1)
            text += CAMERA_RULE
        self.config.write_text(text)
        self.cfg: Config = with_env_overrides(load(self.config, environ={}), self.env)
        ensure_topics(self.cfg)
        self.publisher = config_publisher(services.state_dir, self.cfg, self.env, f"c-sensors-{unique}")
        self.logs = workdir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.worker = start_process("worker", self.config, workdir, self.env, self.logs)
        self.edge = start_process("edge", self.config, workdir, self.env, self.logs)
        self.users()
        self.center, self.url = start_center(self.config, workdir, self.env, self.logs)
        self.sent = 0

    def users(self) -> None:
        """The first admin from the command line, as a new deployment makes it; then the
        operators."""
        base = [sys.executable, "-m", "riskstream", "center", "--config", str(self.config),
                "--state-dir", str(self.workdir)]
        env = {**os.environ, **self.env, "RS_CENTER_PASSWORD": PASSWORD}
        for extra in (["create-admin", "--username", "admin"],
                      ["add-user", "--username", "ops1", "--role", "city_operator"],
                      ["add-user", "--username", "ops2", "--role", "city_operator"],
                      ["add-user", "--username", "chief", "--role", "supervisor"],
                      ["add-user", "--username", "hill", "--role", "district_operator",
                       "--district", "hillside"]):
            done = subprocess.run([*base[:4], extra[0], *base[4:], *extra[1:]], env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        again = subprocess.run([*base[:4], "create-admin", *base[4:], "--username", "other"],
                               env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 2 and "an admin exists" in again.stderr

    def readings(self, sensor: str, values: list[float]) -> None:
        site = "plant-b" if sensor == "h2s-b" else "plant-a"
        start = datetime.now(UTC) - timedelta(seconds=len(values))
        for i, value in enumerate(values):
            ts = (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
            info = self.publisher.publish(f"c{self.u}/{site}/{sensor}",
                                          json.dumps({"value": value, "ts": ts}).encode(), qos=1)
            info.wait_for_publish(10)
            self.sent += 1

    def restart_center(self) -> None:
        port = self.center.metrics_port
        self.center.stop()
        self.center, self.url = start_center(self.config, self.workdir, self.env, self.logs, port)

    def stop(self) -> None:
        self.publisher.disconnect()
        self.publisher.loop_stop()
        for proc in (self.center, self.edge, self.worker):
            proc.stop()


@pytest.fixture
def stack(services: ServiceInfo, unique: str, workdir: Path) -> Iterator[Stack]:
    needs_chromium()
    s = Stack(services, unique, workdir)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def log_in(browser: Any, url: str, name: str) -> Any:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{url}/")
    return page


def shoot(page: Any, name: str) -> None:
    """With RS_SCREENSHOTS=DIR, keep a screenshot for the README (docs/)."""
    folder = os.environ.get("RS_SCREENSHOTS")
    if folder:
        page.set_viewport_size({"width": 1400, "height": 800})
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def row(page: Any, alert_id: str) -> Any:
    return page.locator(f'tr[data-alert="{alert_id}"]')


def first_alert(page: Any, site: str, timeout: float = 60) -> str:
    """The id of the first board row of ``site`` once one shows."""
    locator = page.locator("#rows tr", has_text=site).first
    locator.wait_for(timeout=timeout * 1000)
    return str(locator.get_attribute("data-alert"))


def api(page: Any, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    """A fetch from the page, with its cookie and CSRF token, as its own script makes one."""
    return page.evaluate(
        """async ([path, method, body]) => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch(path, {method, headers: {"Content-Type": "application/json",
                "X-CSRF-Token": csrf}, body: body ? JSON.stringify(body) : undefined});
            return {status: r.status, body: await r.text()};
        }""", [path, method, body])


def outsiders_are_refused(stack: Stack, browser: Any) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{stack.url}/login")
    page.fill("#username", "ops1")
    page.fill("#password", "not the password")
    page.click("#submit")
    assert page.locator("#login-error").inner_text() == "用户名或密码错误"
    with urllib.request.urlopen(f"{stack.url}/api/openapi.json", timeout=5) as reply:
        assert json.load(reply)["paths"]
    assert shutil.which("curl") is not None
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                           f"{stack.url}/api/alerts"], capture_output=True, text=True, timeout=10)
    assert curl.stdout == "401"


def test_console_end_to_end(stack: Stack, browser: Any) -> None:
    outsiders_are_refused(stack, browser)
    ops1 = log_in(browser, stack.url, "ops1")
    ops2 = log_in(browser, stack.url, "ops2")
    hill = log_in(browser, stack.url, "hill")
    # An alert raised by readings over MQTT appears without a reload, in two sessions.
    stack.readings("gas-a", [10, 30, 55, 56])
    harbour = first_alert(ops1, "plant-a")
    row(ops2, harbour).wait_for(timeout=30_000)
    assert "flash" in (row(ops1, harbour).get_attribute("class") or "")
    # The district operator's board, API, alert page and live stream never show it.
    stack.readings("h2s-b", [5, 12, 22])
    hillside = first_alert(hill, "plant-b")
    assert row(hill, harbour).count() == 0
    assert api(hill, f"/api/alerts/{harbour}")["status"] == 404
    ack = api(hill, f"/api/alerts/{harbour}/actions", "POST", {"action": "acknowledge"})
    assert ack["status"] == 404
    assert hill.goto(f"{stack.url}/alerts/{harbour}").status == 404
    stream = hill.evaluate("""async () => {
        const r = await fetch('/api/stream'); const reader = r.body.getReader();
        let text = ''; const end = Date.now() + 5000;
        while (!text.includes('event: snapshot') || !text.split('event: snapshot')[1].includes('\\n\\n')) {
            const {value, done} = await reader.read(); if (done || Date.now() > end) break;
            text += new TextDecoder().decode(value); }
        reader.cancel(); return text; }""")
    assert hillside in stream and harbour not in stream and "plant-a" not in stream
    # The alert page: explanation, contributing events, the readings chart with setpoints.
    ops1.click(f'tr[data-alert="{harbour}"]')
    ops1.wait_for_url(f"{stack.url}/alerts/{harbour}")
    ops1.locator("#events tr").first.wait_for(timeout=30_000)
    assert ops1.locator("#events tr").count() >= 2

    def chart_drawn() -> bool:  # the readings reach ClickHouse a moment after the events
        ops1.reload()
        ops1.wait_for_function("() => document.querySelector('#chart').childNodes.length > 0")
        return bool(ops1.locator("#chart svg.series").count() > 0)

    assert wait_for(chart_drawn, timeout=40, interval=1), "no readings chart"
    assert ops1.locator("#chart line.setpoint").count() == 2
    shoot(ops1, "center-alert.png")
    shoot(ops2, "center-board.png")
    # Acknowledge in one session, see it in the other without a reload.
    ops1.click("#do-acknowledge")
    ops1.locator("#action-result", has_text="r").wait_for()
    row(ops2, harbour).locator("td.status", has_text="已确认").wait_for(timeout=15_000)
    # A supervisor shelves it for 3 s: it leaves the unacknowledged work and comes back.
    chief = log_in(browser, stack.url, "chief")
    chief.goto(f"{stack.url}/alerts/{harbour}")
    chief.click("#do-shelve")
    chief.fill("#a-comment", "crew checking the flange")
    chief.fill("#a-duration", "0.05")
    chief.click("#a-send")
    row(ops2, harbour).locator("td.status", has_text="已搁置").wait_for(timeout=15_000)
    row(ops2, harbour).locator("td.status", has_text="已确认").wait_for(timeout=20_000)
    # The server restarts; an alarm raised meanwhile reaches the open page without a reload.
    stack.center.stop()
    stack.readings("gas-a2", [10, 40, 60])
    time.sleep(3)
    stack.restart_center()
    ops2.locator("#rows tr").nth(2).wait_for(timeout=60_000)  # a third row: the new alarm
    ids = {ops2.locator("#rows tr").nth(i).get_attribute("data-alert")
           for i in range(ops2.locator("#rows tr").count())}
    assert harbour in ids and len(ids - {harbour, hillside}) == 1
    ops1.goto(f"{stack.url}/kpis")
    ops1.locator("#kpi-rows tr").first.wait_for(timeout=15_000)
    assert ops1.locator('#kpi-rows tr[data-scope="city"]').count() == 1
    shoot(ops1, "center-kpis.png")
    wait_for_metric(stack.edge, "riskstream_edge_readings_total", stack.sent, 30)
    audit = audit_rows(stack)
    assert ("ops1", "login", "ok") in audit and ("ops1", "acknowledge", "ok") in audit
    assert ("chief", "shelve", "ok") in audit
    assert ("hill", "view", "denied") in audit and ("hill", "action", "denied") in audit
    assert ("ops1", "login", "failed") in audit and ("", "api", "denied") in audit


def audit_rows(stack: Stack, awaited: tuple[str, str, str] = ("chief", "shelve", "ok")
               ) -> set[tuple[str, str, str]]:
    """(actor, action, outcome) of the audit rows, once ``awaited`` is among them."""
    client = connect(stack.cfg.clickhouse, analyst=True)
    table = f"{stack.cfg.clickhouse.database}.center_audit"

    got: set[tuple[str, str, str]] = set()

    def rows() -> bool:
        got.clear()
        got.update((str(a), str(b), str(c)) for a, b, c in client.query(
            f"SELECT actor, action, outcome FROM {table}").result_rows)
        return awaited in got

    assert wait_for(rows, timeout=20), f"audit rows: {sorted(got)}"
    return got


@pytest.fixture
def camera_stack(services: ServiceInfo, unique: str, workdir: Path) -> Iterator[Stack]:
    from riskstream.demo.clips import walker_clip
    from riskstream.services.mjpeg import MjpegServer
    from riskstream.services.process import free_port

    needs_chromium()
    clip = walker_clip(workdir / "walker.mp4", seconds=6.0, seed=0)
    mjpeg = MjpegServer(clip, free_port(), loop=True).start()
    s = Stack(services, unique, workdir, camera_url=mjpeg.url)
    try:
        yield s
    finally:
        s.stop()
        mjpeg.stop()


def sha256_in_page(page: Any, url: str) -> dict[str, Any]:
    return dict(page.evaluate("""async (url) => {
        const r = await fetch(url); if (r.status !== 200) return {status: r.status};
        const digest = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());
        return {status: r.status, header: r.headers.get('X-Evidence-SHA256'),
                sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')};
    }""", url))


def test_snapshots_sites_and_devices(camera_stack: Stack, browser: Any) -> None:
    import hashlib

    stack = camera_stack
    ops1 = log_in(browser, stack.url, "ops1")
    hill = log_in(browser, stack.url, "hill")
    stack.readings("gas-a", [10, 12, 11])  # heard: its heartbeat reaches the device page
    stack.readings("h2s-b", [1, 2])
    row_of = ops1.locator("#rows tr", has_text="bay-intrusion").first
    row_of.wait_for(timeout=90_000)
    alert_id = str(row_of.get_attribute("data-alert"))
    ops1.goto(f"{stack.url}/alerts/{alert_id}")

    from playwright.sync_api import TimeoutError as NotYet

    def shown(check: str) -> bool:  # events reach ClickHouse, evidence the console's store
        ops1.reload()
        ops1.locator("#snapshots > *").first.wait_for(timeout=10_000)
        try:
            ops1.wait_for_function(check, timeout=3_000)
        except NotYet:
            return False
        return True

    assert wait_for(lambda: shown("() => [...document.querySelectorAll('#snapshots img')]"
                                  ".some((i) => i.complete && i.naturalWidth > 0)"),
                    timeout=60, interval=1), "no snapshot on the alert page"
    # The clip around the incident's start plays in the browser (WebM, VP8).
    assert wait_for(lambda: shown("() => [...document.querySelectorAll('#snapshots video')]"
                                  ".some((v) => v.readyState >= 1 && v.videoWidth > 0 "
                                  "&& v.duration > 1)"), timeout=60, interval=1), "no clip"
    src = str(ops1.locator("#snapshots img").first.get_attribute("src"))
    event_id = src.rsplit("/", 1)[1]
    (at_edge,) = [p for p in stack.workdir.rglob(f"{event_id}.jpg") if "evidence" not in p.parts]
    served = sha256_in_page(ops1, src)
    assert served["status"] == 200
    assert served["sha256"] == served["header"] == hashlib.sha256(at_edge.read_bytes()).hexdigest()
    clip = str(ops1.locator("#snapshots video").first.get_attribute("src"))
    assert clip.endswith("/clip") and sha256_in_page(hill, clip) == {"status": 404}
    shoot(ops1, "center-alert-snapshot.png")
    # Another district's operator: the same URL is refused, by fetch and by opening it.
    assert sha256_in_page(hill, src) == {"status": 404}
    assert hill.goto(f"{stack.url}{src}").status == 404
    hill.goto(f"{stack.url}/devices")
    hill.locator('#device-rows tr[data-device="h2s-b"]').wait_for(timeout=20_000)
    assert hill.locator('#device-rows tr[data-device="cam-a"]').count() == 0
    # Device health: the camera streams, the heard sensor is ok, the unheard one never spoke.
    ops1.goto(f"{stack.url}/devices")
    ops1.locator('#device-rows tr[data-device="cam-a"][data-status="ok"]').wait_for(timeout=20_000)
    ops1.locator('#device-rows tr[data-device="gas-a"][data-status="ok"]').wait_for(timeout=20_000)
    assert ops1.locator('#device-rows tr[data-device="gas-a2"]').get_attribute("data-status") == "never"
    assert ops1.locator('#device-rows tr[data-device^="edge:"]').count() == 1
    shoot(ops1, "center-devices.png")
    # Site overview: the camera's point carries the intrusion alarm's colour (major: orange).
    ops1.goto(f"{stack.url}/sites")
    ops1.locator('section[data-site="plant-a"] li[data-point="loading-bay"][data-state="orange"]'
                 ).wait_for(timeout=20_000)
    assert ops1.locator('section[data-site="plant-b"]').get_attribute("data-state") == "normal"
    shoot(ops1, "center-sites.png")
    hill.goto(f"{stack.url}/sites")
    hill.locator('section[data-site="plant-b"]').wait_for(timeout=20_000)
    assert hill.locator('section[data-site="plant-a"]').count() == 0
    assert ("hill", "view-evidence", "denied") in audit_rows(stack, ("hill", "view-evidence", "denied"))

