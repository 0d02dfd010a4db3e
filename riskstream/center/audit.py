"""The console's audit trail: every login (good or bad) and every action or refused attempt,
with who, what, which alert, when and from where, appended to ClickHouse ``center_audit``
(kept ``center.audit_retention_days``, at least 30).

Records are queued and written by one thread, so a slow or absent ClickHouse never blocks a
login; while it is down they wait in memory (and are counted), and go out when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from typing import Any

from riskstream.events import utc_now

log = logging.getLogger(__name__)
MAX_QUEUED = 100_000


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    role: str
    district: str
    action: str  # login, logout, acknowledge, ..., view-denied, csrf-missing
    alert_id: str
    site_id: str
    outcome: str  # ok, refused, denied, failed
    status: int  # the HTTP status answered
    detail: str
    address: str
    session: str  # the session's stored hash prefix ('' for bearer tokens and logins)
    at: datetime

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]


class AuditLog:
    def __init__(self, client: Any, database: str) -> None:
        self._client, self._table = client, f"{database}.center_audit"
        self._queue: deque[AuditRecord] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.written = self.dropped = self.failures = 0
        self._thread = threading.Thread(target=self._run, name="audit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def record(self, actor: str, action: str, outcome: str, status: int, *, role: str = "",
               district: str = "", alert_id: str = "", site_id: str = "", detail: str = "",
               address: str = "", session: str = "") -> None:
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(AuditRecord(actor[:128], role, district, action, alert_id[:64],
                                       site_id[:64], outcome, status, detail[:2000],
                                       address[:64], session[:16], utc_now()))
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(10)
        self._flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            if not self._flush():
                self._stop.wait(2.0)  # ClickHouse away: try again shortly

    def _flush(self) -> bool:
        batch = list(self._queue)
        if not batch:
            return True
        try:
            self._client.insert(self._table, [list(astuple(r)) for r in batch],
                                column_names=AuditRecord.columns())
        except Exception as exc:  # kept queued; said once per failure
            self.failures += 1
            log.warning("audit: %d records wait for ClickHouse (%s)", len(batch), exc)
            return False
        for _ in batch:
            self._queue.popleft()
        self.written += len(batch)
        return True
