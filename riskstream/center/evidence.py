"""Event snapshots and clips at the center: what the edges ship on ``rs.evidence``, checked
and kept.

A record is accepted only when it decodes (the contract checks the SHA-256 and the file
type), names a configured site and an event id that is safe as a file name, and fits the disk
budget. Files live under ``<root>/<site>/<yyyymmdd>/<event_id>.jpg`` (a clip: ``.webm``;
folders 0700, files 0600: readable by the console's own account only), indexed in SQLite; a
second record of the same kind for an event is a duplicate when its hash is the same (Kafka
redelivery) and refused when it is not (evidence is never overwritten). Files are kept
``retention_days`` (at least 30) from their frame's time, then deleted; a file read back is
hashed again before it is served.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from riskstream.events import EventError, Evidence

_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
SUFFIX = {"snapshot": ".jpg", "clip": ".webm"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence (event_id TEXT NOT NULL, kind TEXT NOT NULL,
    site_id TEXT NOT NULL, source_id TEXT NOT NULL, ts REAL NOT NULL, content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, path TEXT NOT NULL, received REAL NOT NULL,
    PRIMARY KEY (event_id, kind));
CREATE INDEX IF NOT EXISTS evidence_ts ON evidence (ts);
"""


@dataclass(frozen=True)
class Stored:
    event_id: str
    kind: str
    site_id: str
    source_id: str
    ts: datetime
    content_type: str
    sha256: str
    size: int
    path: Path


@dataclass(frozen=True)
class Outcome:
    """What became of one record: ``stored``, ``duplicate`` or ``refused`` (with the reason)."""

    result: str
    reason: str = ""
    event_id: str = ""
    site_id: str = ""


class EvidenceStore:
    def __init__(self, root: Path, retention_days: int, max_bytes: int, sites: Iterable[str],
                 clock: Callable[[], float] = time.time) -> None:
        self.root, self.retention_s, self.max_bytes = root, retention_days * 86400.0, max_bytes
        self.sites, self.clock = set(sites), clock
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(root / "index.db", check_same_thread=False)
        os.chmod(root / "index.db", 0o600)
        self._db.executescript(_SCHEMA)
        self.counts = {"stored": 0, "duplicate": 0, "refused": 0}

    def accept(self, value: bytes) -> Outcome:
        """Check and keep one ``rs.evidence`` record, and count what became of it. Raises
        OSError when the disk fails (the caller retries the record: nothing is committed past
        it)."""
        return self.settled(self.check_and_keep(value))

    def check_and_keep(self, value: bytes) -> Outcome:
        """:meth:`accept` without the count: for a caller that still has to dead-letter a
        refusal, and retries the record (calling this again) when that fails."""
        return self._accept(value)

    def settled(self, outcome: Outcome) -> Outcome:
        """Count ``outcome`` once its record is done with (kept, or refused and dead-lettered)."""
        self.counts[outcome.result] += 1
        return outcome

    def _accept(self, value: bytes) -> Outcome:
        try:
            ev = Evidence.from_json(value)
        except EventError as exc:
            return Outcome("refused", str(exc))
        refusal = self._refusal(ev)
        if refusal:
            return Outcome("refused", refusal, ev.event_id, ev.site_id)
        with self._lock:
            row = self._db.execute("SELECT sha256 FROM evidence WHERE event_id = ? AND kind = ?",
                                   (ev.event_id, ev.kind)).fetchone()
            if row is not None:
                if row[0] == ev.sha256:
                    return Outcome("duplicate", "", ev.event_id, ev.site_id)
                return Outcome("refused", f"event {ev.event_id} already has a different "
                               f"{ev.kind} (evidence is never replaced)", ev.event_id, ev.site_id)
            if self._used() + len(ev.data) > self.max_bytes:
                return Outcome("refused", "the evidence store is over its disk budget "
                               "(center.evidence_max_mb)", ev.event_id, ev.site_id)
            path = self._write(ev)
            self._db.execute("INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (ev.event_id, ev.kind, ev.site_id, ev.source_id, ev.ts.timestamp(),
                              ev.content_type, ev.sha256, len(ev.data),
                              str(path.relative_to(self.root)), self.clock()))
            self._db.commit()
        return Outcome("stored", "", ev.event_id, ev.site_id)

    def _refusal(self, ev: Evidence) -> str:
        if ev.site_id not in self.sites:
            return f"unknown site {ev.site_id!r}"
        if not _SAFE_ID.match(ev.event_id):
            return "event_id: only letters, digits, '_' and '-' (it names the file)"
        if ev.ts.timestamp() < self.clock() - self.retention_s:
            return "older than the evidence retention (center.evidence_retention_days)"
        return ""

    def _write(self, ev: Evidence) -> Path:
        folder = self.root / ev.site_id / ev.ts.strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{ev.event_id}{SUFFIX[ev.kind]}"
        tmp = path.with_suffix(".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, ev.data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return path

    def _used(self) -> int:
        return int(self._db.execute("SELECT COALESCE(SUM(bytes), 0) FROM evidence").fetchone()[0])

    def get(self, event_id: str, kind: str = "snapshot") -> Stored | None:
        with self._lock:
            row = self._db.execute(
                "SELECT event_id, kind, site_id, source_id, ts, content_type, sha256, bytes, path "
                "FROM evidence WHERE event_id = ? AND kind = ?", (event_id[:64], kind)).fetchone()
        if row is None:
            return None
        return Stored(row[0], row[1], row[2], row[3], datetime.fromtimestamp(row[4], UTC), row[5],
                      row[6], row[7], self.root / row[8])

    def read(self, stored: Stored) -> bytes | None:
        """The file's bytes, or None when it is gone or no longer matches its hash."""
        try:
            data = stored.path.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == stored.sha256 else None

    def known(self, event_ids: Iterable[str]) -> dict[str, set[str]]:
        """event id -> the kinds of evidence held for it (only ids that have some)."""
        ids = list(event_ids)[:500]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT event_id, kind FROM evidence WHERE event_id IN ({marks})", ids).fetchall()
        out: dict[str, set[str]] = {}
        for event_id, kind in rows:
            out.setdefault(event_id, set()).add(kind)
        return out

    def purge(self) -> int:
        """Delete what is older than the retention; returns how many files."""
        cutoff = self.clock() - self.retention_s
        with self._lock:
            rows = self._db.execute("SELECT event_id, kind, path FROM evidence WHERE ts < ?",
                                    (cutoff,)).fetchall()
            for event_id, kind, rel in rows:
                (self.root / rel).unlink(missing_ok=True)
                self._db.execute("DELETE FROM evidence WHERE event_id = ? AND kind = ?",
                                 (event_id, kind))
            self._db.commit()
        return len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
