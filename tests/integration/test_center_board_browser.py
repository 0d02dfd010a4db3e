"""The board with many alerts, in a real browser (Debian's Chromium via Playwright).

The console runs in-process on an in-memory board (no Kafka: the stream side is covered by
test_center_browser.py); the page is the real one. The board draws only the rows in view, so
these check by trying what that must not break: counts over every alert, scrolling to any
row, keyboard selection that scrolls, ticks kept while a row is off screen and bulk
acknowledgement of exactly the ticked alerts, live revisions without a reload, flashing and
the horn (whose audio runs only while a tone plays).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.center.accounts import Accounts
from riskstream.center.audit import AuditLog
from riskstream.center.board import Board
from riskstream.center.web import Center, create_app
from riskstream.config.schema import CenterSettings
from riskstream.events import Alert, AlertAction, Severity
from riskstream.services.process import free_port
from tests.integration.test_center_browser import CHROMIUM, needs_chromium

pytestmark = pytest.mark.integration
PASSWORD = "board-operator-2026"
N = 300


class NoClickHouse:
    """The audit's insert, kept in memory (the audit trail is tested on the real stack)."""

    def insert(self, table: str, rows: list[list[Any]], column_names: list[str]) -> None:
        return None


@dataclass
class Console:
    url: str
    board: Board
    alerts: list[Alert]
    sent: list[AlertAction] = field(default_factory=list)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    import uvicorn

    board = Board({})
    start = datetime(2026, 12, 1, tzinfo=UTC)
    rng = random.Random(7)
    alerts = [Alert(alert_id=f"ALB{i:04d}", rule="gas-high", site_id=f"site-{i % 7}", district="harbour",
                    severity=rng.choice(list(Severity)), first_ts=start, last_ts=start,
                    updated_at=start + timedelta(seconds=i), event_ids=(f"e{i}",),
                    explanation=f"alert number {i}", attrs={"alarm_level": 1})
              for i in range(N)]
    for a in alerts:
        board.apply(a)
    board.ready = True
    accounts = Accounts(tmp_path / "center.db")
    accounts.add_user("op", PASSWORD, "city_operator")
    sent: list[AlertAction] = []

    def send(action: AlertAction) -> None:  # the correlator refuses: this test looks at what was sent
        sent.append(action)
        board.refused(action.action_id, "not in this test")

    center = Center(CenterSettings(action_wait_s=0.5), accounts, board, AuditLog(NoClickHouse(), "rs"), send)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(center), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Console(f"http://127.0.0.1:{port}", board, alerts, sent)
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def page(console: Console) -> Iterator[Any]:
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            pg = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            pg.goto(f"{console.url}/login")
            pg.fill("#username", "op")
            pg.fill("#password", PASSWORD)
            pg.click("#submit")
            pg.wait_for_url(f"{console.url}/")
            pg.wait_for_function(f"() => document.getElementById('count-total')?.textContent === '{N}'")
            yield pg
        finally:
            browser.close()


def order(console: Console) -> list[str]:
    """The board's order as the server defines it (the page sorts by the same key)."""
    return [a.alert_id for a in sorted(console.alerts, key=lambda a: console.board.order(a))]


def ids_in_page(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.alert)"))


def in_view(page: Any, alert_id: str) -> bool:
    box = page.locator(f'#rows tr[data-alert="{alert_id}"]').bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 720


def test_the_page_holds_the_rows_in_view_and_counts_every_alert(page: Any, console: Console) -> None:
    ranked = order(console)
    shown = ids_in_page(page)
    assert 20 <= len(shown) <= 60, "only a screenful (and a margin) of rows is in the page"
    assert shown == ranked[: len(shown)], "in the board's order"
    counts = {s: page.text_content(f"#count-{s}") for s in ("critical", "major", "warning", "info")}
    assert {s: int(n) for s, n in counts.items()} == {
        s.value: sum(a.severity is s for a in console.alerts) for s in Severity}
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(f"() => !!document.querySelector('#rows tr[data-alert=\"{ranked[-1]}\"]')")
    assert in_view(page, ranked[-1])
    assert page.locator(f'#rows tr[data-alert="{ranked[0]}"]').count() == 0


def test_keyboard_selection_scrolls_its_row_into_view(page: Any, console: Console) -> None:
    ranked = order(console)
    for _ in range(45):
        page.keyboard.press("j")
    selected = ranked[44]
    page.wait_for_function(
        f"() => document.querySelector('#rows tr.selected')?.dataset.alert === '{selected}'")
    assert in_view(page, selected)
    for _ in range(44):
        page.keyboard.press("k")
    page.wait_for_function(
        f"() => document.querySelector('#rows tr.selected')?.dataset.alert === '{ranked[0]}'")
    assert in_view(page, ranked[0])


def test_ticks_survive_scrolling_and_bulk_acknowledge_sends_exactly_them(page: Any, console: Console) -> None:
    ranked = order(console)
    ticked = ranked[1:4]
    for aid in ticked:
        page.check(f'#rows tr[data-alert="{aid}"] input.pick')
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(f"() => !document.querySelector('#rows tr[data-alert=\"{ticked[0]}\"]')")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_selector(f'#rows tr[data-alert="{ticked[0]}"]')
    assert all(page.is_checked(f'#rows tr[data-alert="{aid}"] input.pick') for aid in ticked)
    page.click("#ack-selected")
    deadline = time.monotonic() + 10
    while len(console.sent) < len(ticked) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(a.alert_id for a in console.sent) == sorted(ticked)
    assert {a.action for a in console.sent} == {"acknowledge"}


def test_a_new_revision_reaches_the_page_without_a_reload(page: Any, console: Console) -> None:
    bottom = order(console)[-1]
    old = next(a for a in console.alerts if a.alert_id == bottom)
    console.board.apply(replace(old, revision=2, severity=Severity.CRITICAL,
                                updated_at=datetime(2026, 12, 2, tzinfo=UTC)))
    # now the newest critical alert: the top row, drawn within a redraw or two
    page.wait_for_selector(f'#rows tr[data-alert="{bottom}"][data-revision="2"]', timeout=5_000)
    assert ids_in_page(page)[0] == bottom


def test_unacknowledged_rows_flash_and_silence_stops_flash_and_horn(page: Any, console: Console) -> None:
    top = ids_in_page(page)[0]
    assert page.locator(f'#rows tr[data-alert="{top}"] .flasher').count() == 1
    phases = set()
    for _ in range(12):
        phases.add(page.evaluate("document.getElementById('rows').classList.contains('blink')"))
        time.sleep(0.1)
    assert phases == {True, False}, "the flash toggles"
    states = []
    for _ in range(30):
        states.append(page.evaluate("window.__horn()"))
        time.sleep(0.1)
    assert set(states) <= {"running", "suspended"}
    assert states.count("suspended") > states.count("running"), "audio runs only while a tone plays"
    page.click("#silence")
    page.wait_for_function("() => window.__horn() === 'off'")
    page.wait_for_function("() => document.querySelectorAll('#rows .flasher').length === 0")
