"""The edge's durable outbox: a record counts as emitted once it is in SQLite (WAL mode).

A forwarder sends the records to Kafka and deletes them only when Kafka acknowledged them,
so while the link is down the edge keeps detecting and buffering, and after a crash it
resumes with what was not yet acknowledged (re-sent records carry the same event_id and fold
downstream). Higher priority (severity) goes first. The disk budget covers the files (database
and write-ahead log) and is enforced on insert: when full, the oldest records of the lowest
priority below critical are dropped, counted and reported; critical records are never dropped
for space. The WAL is checkpointed and truncated at a fraction of the budget and freed pages
are returned to the file system (incremental auto-vacuum), so the files stay within it.

Small per-device state that must survive a restart together with the events it explains
(the alarm level of each sensor) is kept in the same database and written in the same
transaction as those events.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CRITICAL_PRIORITY = 3
# SQLite stores a record in up to ~2.2x its size once the oldest low-severity records are
# dropped from the middle of the table (half-empty pages that appending never refills; the
# index); tests/unit/test_outbox.py checks that the files stay within the budget.
STORAGE_OVERHEAD = 2.5
PAGE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    topic: str
    key: bytes
    value: bytes
    priority: int = 0  # Severity rank: 0 info .. 3 critical


@dataclass(frozen=True, slots=True)
class Pending:
    seq: int
    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class PutResult:
    stored: int
    dropped: int  # records removed to stay within the disk budget


class Outbox:
    """Thread-safe: the MQTT thread puts, the forwarder thread takes and acknowledges."""

    def __init__(self, path: Path, max_bytes: int = 256 * 1024 * 1024) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self.max_file_bytes = max_bytes
        wal_limit = max_bytes // 8
        self._max_bytes = int((max_bytes - wal_limit) / STORAGE_OVERHEAD)  # for the records
        self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA wal_autocheckpoint={max(1, wal_limit // PAGE_SIZE // 2)}")
        self._db.execute(f"PRAGMA journal_size_limit={wal_limit}")
        # NORMAL: a committed record survives a crash of this process (WAL reaches the OS);
        # FULL would also survive power loss at the cost of an fsync per commit.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS outbox (
                seq      INTEGER PRIMARY KEY AUTOINCREMENT,
                topic    TEXT NOT NULL,
                key      BLOB NOT NULL,
                value    BLOB NOT NULL,
                priority INTEGER NOT NULL,
                size     INTEGER NOT NULL,
                created  REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority DESC, seq);
            CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)
        self._bytes = int(self._db.execute(
            "SELECT coalesce(sum(size), 0) FROM outbox").fetchone()[0])
        self.dropped_total = 0

    def put(self, records: Sequence[OutboxRecord], state: dict[str, str] | None = None) -> PutResult:
        """Store ``records`` (and ``state`` entries) in one transaction."""
        now = time.time()
        rows = [(r.topic, r.key, r.value, r.priority, len(r.key) + len(r.value) + 64, now)
                for r in records]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO outbox (topic, key, value, priority, size, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)", rows)
                if state:
                    self._db.executemany("INSERT OR REPLACE INTO kv (name, value) VALUES (?, ?)",
                                         list(state.items()))
                self._bytes += sum(r[4] for r in rows)
                dropped = self._enforce_budget()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        self.dropped_total += dropped
        return PutResult(len(rows), dropped)

    def _rollback(self) -> None:
        """Undo a failed transaction (SQLite may have undone it already, e.g. disk full)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._bytes = int(self._db.execute(
            "SELECT coalesce(sum(size), 0) FROM outbox").fetchone()[0])

    def _enforce_budget(self) -> int:
        dropped = 0
        while self._bytes > self._max_bytes:
            victims = self._db.execute(
                "SELECT seq, size FROM outbox WHERE priority < ? ORDER BY priority, seq LIMIT 500",
                (CRITICAL_PRIORITY,)).fetchall()
            if not victims:
                break  # only critical records left: keep them, over budget
            doomed = []
            for seq, size in victims:
                doomed.append((seq,))
                self._bytes -= size
                if self._bytes <= self._max_bytes:
                    break
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", doomed)
            dropped += len(doomed)
        if dropped:
            self._db.execute("PRAGMA incremental_vacuum(256)")
        return dropped

    def take_after(self, cursor: int, limit: int, min_priority: int = 0) -> list[Pending]:
        """Up to ``limit`` records with ``seq > cursor`` (and at least ``min_priority``) in
        arrival order: the cheap scan for a healthy link, where nothing waits long."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, key, value FROM outbox WHERE seq > ? AND priority >= ? "
                "ORDER BY seq LIMIT ?", (cursor, min_priority, limit)).fetchall()
        return [Pending(*row) for row in rows]

    def take(self, limit: int, exclude: Iterable[int] = ()) -> list[Pending]:
        """Up to ``limit`` records, highest priority first, skipping those in flight."""
        skip = set(exclude)
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, key, value FROM outbox ORDER BY priority DESC, seq LIMIT ?",
                (limit + len(skip),)).fetchall()
        return [Pending(*row) for row in rows if row[0] not in skip][:limit]

    def ack(self, seqs: Sequence[int]) -> None:
        """Forget records Kafka acknowledged."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            sizes = 0
            try:
                for chunk in range(0, len(seqs), 500):
                    part = seqs[chunk:chunk + 500]
                    marks = ",".join("?" * len(part))
                    sizes += int(self._db.execute(
                        f"SELECT coalesce(sum(size), 0) FROM outbox WHERE seq IN ({marks})",
                        part).fetchone()[0])
                    self._db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", part)
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            self._bytes -= sizes
            self._db.execute("PRAGMA incremental_vacuum(256)")  # give freed pages back

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def file_bytes(self) -> int:
        """What the outbox takes on disk: the database and its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())

    def state(self, prefix: str = "") -> dict[str, str]:
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM kv WHERE name LIKE ?",
                                    (prefix + "%",)).fetchall()
        return dict(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
