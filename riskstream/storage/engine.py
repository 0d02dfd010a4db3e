"""The embedded ClickHouse engine (chdb) as the HTTP endpoint runs it: users, sessions, limits.

chdb has no users or grants (``CREATE USER`` is refused), so the roles are built from what it
does have: independent sessions on one data folder, each with its own settings, running
concurrently.

* The **writer** (the pipeline) runs on sessions of its own: an HTTP session (``session_id``)
  keeps one chdb session and its ``SET`` settings; requests without one take a pooled session.
  URL settings apply to their query only. Writers never queue behind analysts.
* The **analyst** gets a fresh chdb session per query with the limits of
  :class:`~riskstream.storage.sql_guard.AnalystPolicy`, then ``readonly=1``: from then on the
  engine itself refuses writes, ``file()``, ``url()`` and any further setting change. What an
  HTTP session ``SET`` is kept by the endpoint and replayed on the next query's session. At
  most :data:`ANALYST_SLOTS` analyst queries run at once, each on one thread by default.
* Analysts read the databases riskstream manages (those with a ``schema_migrations`` table)
  and the ``system`` and ``information_schema`` ones, nothing else.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from riskstream.storage.sql_guard import (
    ACCESS_DENIED,
    HTTP_SETTINGS,
    READING,
    READONLY,
    SESSION_IS_LOCKED,
    SESSION_NOT_FOUND,
    SYNTAX_ERROR,
    TOO_MANY_SIMULTANEOUS_QUERIES,
    UNKNOWN_DATABASE,
    AnalystPolicy,
    QueryError,
    Statement,
    check_files,
    error_code,
    escape_param,
    parse_set,
    quote,
)

log = logging.getLogger(__name__)

ANALYST_SLOTS = 2
ANALYST_QUEUE_S = 10.0
MAX_SESSIONS = 200
WRITER_POOL = 8
PUBLIC_DATABASES = frozenset({"system", "information_schema", "INFORMATION_SCHEMA"})


@dataclass(frozen=True)
class User:
    name: str
    password: str
    readonly: bool


@dataclass
class Request:
    """One query as the HTTP layer hands it over."""

    user: User
    sql: str
    data: bytes | None = None  # INSERT data following the statement
    database: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    default_format: str = "TabSeparated"
    session_id: str | None = None
    session_timeout: float = 60.0
    session_check: bool = False


@dataclass
class Result:
    data: bytes
    format: str
    summary: dict[str, str]


@dataclass
class _Session:
    user: str
    settings: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    chdb: Any = None  # the writer's own chdb session
    lock: threading.Lock = field(default_factory=threading.Lock)
    expires: float = 0.0


class Engine:
    def __init__(self, data_dir: Path, policy: AnalystPolicy | None = None,
                 home: str = "riskstream") -> None:
        from chdb import session

        data_dir.mkdir(parents=True, exist_ok=True)
        self._path = str(data_dir)
        self._new_session: Any = cast(Any, session).Session
        self.policy = policy or AnalystPolicy()
        self.home = home  # the analyst's current database unless they choose another
        self._parser: Any = self._new_session(self._path)  # formats statements; never runs them
        # One chdb session must not serve two threads at once: concurrent parameterised
        # queries lost their parameters ("Substitution `q` is not set", seen under load).
        self._parser_lock = threading.Lock()
        self._parser.query("SET readonly = 1")
        self.known_settings = frozenset(
            self._parser.query("SELECT name FROM system.settings", "TSVRaw").bytes().decode().split())
        self.known_settings |= HTTP_SETTINGS
        self.timezone = self._parser.query("SELECT timezone()", "TSVRaw").bytes().decode().strip()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._sessions_lock = threading.Lock()
        self._analysts = threading.BoundedSemaphore(ANALYST_SLOTS)
        self._managed: tuple[float, frozenset[str]] = (0.0, frozenset())
        self._tmp = Path(tempfile.mkdtemp(prefix="rs-ch-insert-"))

    # -- statements --------------------------------------------------------------------

    def parse(self, sql: str) -> Statement:
        """The engine's canonical form of ``sql``; its syntax error when it has none."""
        try:
            out = self._ask("SELECT formatQuerySingleLine({q:String})",
                            params={"q": escape_param(sql)})
        except Exception as exc:
            message = str(exc).replace("In scope SELECT formatQuerySingleLine(_CAST(", "")
            raise QueryError(error_code(message) or SYNTAX_ERROR, message) from None
        return Statement(out.bytes().decode().rstrip("\n"))

    def _ask(self, sql: str, params: dict[str, str] | None = None) -> Any:
        """A query on the parser session (read-only), one thread at a time."""
        with self._parser_lock:
            return self._parser.query(sql, "TSVRaw", params=params)

    def managed_databases(self, fresh: bool = False) -> frozenset[str]:
        """Databases riskstream migrated (they hold ``schema_migrations``); cached 5 s."""
        at, names = self._managed
        if fresh or time.monotonic() - at > 5.0:
            rows = self._ask("SELECT database FROM system.tables WHERE name = "
                             "'schema_migrations'").bytes().decode().split()
            names = frozenset(rows)
            self._managed = (time.monotonic(), names)
        return names

    def _allowed(self, database: str) -> bool:
        return (database in PUBLIC_DATABASES or database in self.managed_databases()
                or database in self.managed_databases(fresh=True))  # migrated a moment ago

    # -- sessions ----------------------------------------------------------------------

    @contextmanager
    def _session(self, req: Request) -> Iterator[_Session | None]:
        if not req.session_id:
            yield None
            return
        key = (req.user.name, req.session_id)
        now = time.monotonic()
        with self._sessions_lock:
            for k in [k for k, s in self._sessions.items() if s.expires < now and not s.lock.locked()]:
                self._close(self._sessions.pop(k))
            sess = self._sessions.get(key)
            if sess is None:
                if req.session_check:
                    raise QueryError(SESSION_NOT_FOUND, f"Session {req.session_id} not found")
                if len(self._sessions) >= MAX_SESSIONS:
                    raise QueryError(TOO_MANY_SIMULTANEOUS_QUERIES,
                                     f"Too many sessions ({MAX_SESSIONS}); close or reuse some")
                sess = self._sessions[key] = _Session(req.user.name)
            if not sess.lock.acquire(blocking=False):
                raise QueryError(SESSION_IS_LOCKED, f"Session {req.session_id} is locked by a "
                                 "concurrent client.")
        try:
            yield sess
        finally:
            sess.expires = time.monotonic() + max(1.0, min(req.session_timeout, 3600.0))
            sess.lock.release()

    def _close(self, sess: _Session) -> None:
        if sess.chdb is not None:
            sess.chdb.close()

    # -- running -----------------------------------------------------------------------

    def run(self, req: Request) -> Result:
        stmt = self.parse(req.sql)
        check_files(stmt)
        with self._session(req) as sess:
            if req.user.readonly:
                return self._run_analyst(req, stmt, sess)
            return self._run_writer(req, stmt, sess)

    def _database(self, req: Request, sess: _Session | None, default: str) -> str:
        return req.database or (sess.database if sess else None) or default

    def _run_analyst(self, req: Request, stmt: Statement, sess: _Session | None) -> Result:
        settings = {**(sess.settings if sess else {})}
        for name, value in req.settings.items():
            checked = self.policy.check(name, value, self.known_settings)
            if checked is not None:
                settings[name] = checked
        if stmt.kind == "SET":
            changes = {k: v for k, v in parse_set(stmt.canonical).items()
                       if self.policy.check(k, v, self.known_settings) is not None}
            if sess is not None:
                sess.settings.update(changes)
            return Result(b"", req.default_format, {})
        if stmt.kind == "USE":
            name = stmt.canonical.split(" ", 1)[1].strip("`")
            self._check_database(name, req.user.name)
            if sess is not None:
                sess.database = name
            return Result(b"", req.default_format, {})
        if stmt.kind not in READING:
            raise QueryError(READONLY, f"{req.user.name}: Cannot execute query in readonly mode. "
                             f"({stmt.kind} is not a reading statement)")
        home = self.home if self._allowed(self.home) else "system"  # before the first migration
        database = self._database(req, sess, home)
        self._check_database(database, req.user.name)
        for name in stmt.qualifiers():
            if self._is_database(name):
                self._check_database(name, req.user.name)
        if not self._analysts.acquire(timeout=ANALYST_QUEUE_S):
            raise QueryError(TOO_MANY_SIMULTANEOUS_QUERIES, f"Too many simultaneous analyst "
                             f"queries ({ANALYST_SLOTS}); try again")
        try:
            chdb = self._new_session(self._path)
            try:
                for name, value in {**self.policy.defaults, **settings}.items():
                    chdb.query(f"SET {name} = {quote(value)}")
                chdb.query("SET readonly = 1")  # from here on the engine refuses any change
                return self._query(chdb, req, stmt, database)
            finally:
                chdb.close()
        finally:
            self._analysts.release()

    def _is_database(self, name: str) -> bool:
        return name in PUBLIC_DATABASES or name in self._all_databases()

    def _all_databases(self) -> set[str]:
        return set(self._ask("SHOW DATABASES").bytes().decode().split())

    def _check_database(self, name: str, user: str) -> None:
        if self._allowed(name):
            return
        if name not in self._all_databases():
            raise QueryError(UNKNOWN_DATABASE, f"Database {name} does not exist")
        raise QueryError(ACCESS_DENIED, f"{user}: Not enough privileges. The read-only user "
                         f"reads riskstream's databases only, not {name}")

    @contextmanager
    def _writer_session(self, sess: _Session | None) -> Iterator[Any]:
        if sess is not None:
            if sess.chdb is None:
                sess.chdb = self._new_session(self._path)
            yield sess.chdb
            return
        with self._pool_lock:
            chdb = self._pool.pop() if self._pool else None
        if chdb is None:
            chdb = self._new_session(self._path)
        try:
            yield chdb
        finally:
            with self._pool_lock:
                if len(self._pool) < WRITER_POOL:
                    self._pool.append(chdb)
                    chdb = None
            if chdb is not None:
                chdb.close()

    def _run_writer(self, req: Request, stmt: Statement, sess: _Session | None) -> Result:
        with self._writer_session(sess) as chdb:
            if stmt.kind == "SET":
                self._exec(chdb, stmt.canonical)
                if sess is not None:
                    sess.settings.update(parse_set(stmt.canonical))
                return Result(b"", req.default_format, {})
            if stmt.kind == "USE":
                self._exec(chdb, stmt.canonical)
                if sess is not None:
                    sess.database = stmt.canonical.split(" ", 1)[1].strip("`")
                return Result(b"", req.default_format, {})
            applied = {k: v for k, v in req.settings.items() if k not in HTTP_SETTINGS}
            for name, value in applied.items():
                self._exec(chdb, f"SET {_name(name)} = {quote(value)}")
            try:
                return self._query(chdb, req, stmt, self._database(req, sess, "default"))
            finally:  # URL settings are for this query only; the session's own stay
                for name in applied:
                    kept = sess.settings.get(name) if sess else None
                    self._exec(chdb, f"SET {_name(name)} = " + (quote(kept) if kept is not None
                                                                else "DEFAULT"))

    @staticmethod
    def _exec(chdb: Any, sql: str) -> Any:
        try:
            return chdb.query(sql)
        except Exception as exc:
            message = str(exc)
            raise QueryError(error_code(message), message) from None

    def _query(self, chdb: Any, req: Request, stmt: Statement, database: str) -> Result:
        started = time.perf_counter_ns()
        self._exec(chdb, f"USE {_name(database)}")
        params = req.params or None
        try:
            if req.data is not None:
                path = self._tmp / f"{uuid.uuid4().hex}.bin"
                path.write_bytes(req.data)
                try:
                    target, _, fmt = stmt.canonical.rpartition(" FORMAT ")
                    result = chdb.query(f"{target} SELECT * FROM file({quote(str(path))}, "
                                        f"{quote(fmt.strip())})", "TabSeparated", params=params)
                finally:
                    path.unlink(missing_ok=True)
                fmt_out = req.default_format
            else:
                fmt_out = stmt.output_format() or req.default_format
                result = chdb.query(req.sql, fmt_out, params=params)
        except QueryError:
            raise
        except Exception as exc:  # chdb raises its own error types with ClickHouse codes
            message = str(exc)
            raise QueryError(error_code(message), message) from None
        data = result.bytes() or b""
        summary = {
            "read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
            "written_rows": str(getattr(result, "rows_written", lambda: 0)()),
            "written_bytes": str(getattr(result, "bytes_written", lambda: 0)()),
            "total_rows_to_read": "0", "result_rows": str(result.rows_read()),
            "result_bytes": str(len(data)), "elapsed_ns": str(time.perf_counter_ns() - started),
        }
        return Result(data, fmt_out, summary)

    def close(self) -> None:
        with self._sessions_lock:
            for sess in self._sessions.values():
                self._close(sess)
            self._sessions.clear()
        for chdb in self._pool:
            chdb.close()
        self._parser.close()


def _name(identifier: str) -> str:
    """A setting or database name, checked to be a plain identifier (no injection)."""
    if not identifier.replace("_", "a").isalnum():
        raise QueryError(SYNTAX_ERROR, f"not a valid name: {identifier[:64]!r}")
    return identifier
