"""The embedded ClickHouse engine (chdb) behind the ClickHouse HTTP interface.

chdb allows one process per data folder, so this process owns it and everybody else — stream
workers, analysts with clickhouse-connect or curl, the tests — uses the same ``http://`` DSN
they would use against a ClickHouse server. Two users: a writer for the pipeline and a
read-only user for analysts, each with a password from the environment.

Supported: GET/POST ``/?query=...`` with the query in the URL and/or the body, ``INSERT ...
FORMAT X`` with the data in the body (any input format chdb reads, Native included),
chunked bodies, lz4/gzip/deflate request compression, Basic auth or X-ClickHouse-User/-Key,
``database`` parameter, ``/ping``, and the X-ClickHouse-Summary/-Format/-Timezone/
-Exception-Code headers. Queries run one at a time (chdb is not thread-safe); TCP_NODELAY
avoids the 40 ms delayed-ACK stall on small responses.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

log = logging.getLogger(__name__)

READ_ONLY_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN")
_INSERT_FORMAT = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*;?\s*$", re.I | re.S)
_INSERT_IN_BODY = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?\s+FORMAT\s+\w+)[ \t]*(\r?\n|$)",
                             re.I | re.S)
_FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*\n|/\*.*?\*/)*", re.S)


@dataclass(frozen=True)
class User:
    name: str
    password: str
    readonly: bool


class QueryError(Exception):
    def __init__(self, code: int, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _error_code(message: str) -> int:
    match = re.match(r"Code: (\d+)", message)
    return int(match.group(1)) if match else 1000


def first_keyword(sql: str) -> str:
    body = _LEADING_COMMENTS.sub("", sql, count=1).lstrip("(")
    return body.split(None, 1)[0].upper() if body.split() else ""


def check_read_only(sql: str) -> None:
    """Reject anything but reading statements (and multi-statement tricks) for readers."""
    if first_keyword(sql) not in READ_ONLY_STATEMENTS:
        raise QueryError(164, f"Cannot execute query in readonly mode: {first_keyword(sql) or 'empty'} "
                         "is not allowed for a read-only user. (READONLY)", 403)
    if re.search(r";\s*\S", sql.rstrip().rstrip(";")):
        raise QueryError(62, "Multi-statement queries are not allowed. (SYNTAX_ERROR)", 400)


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "lz4":
        import lz4.frame

        out, rest = bytearray(), body
        while rest:  # clients may send several concatenated frames
            decoder = lz4.frame.LZ4FrameDecompressor()
            out += decoder.decompress(rest)
            rest = decoder.unused_data
        return bytes(out)
    if encoding == "zstd":
        try:
            import zstandard
        except ImportError:
            raise QueryError(0, "zstd request bodies need the zstandard package", 415) from None
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    raise QueryError(0, f"Unsupported Content-Encoding {encoding!r}", 415)


class Engine:
    """chdb session, one query at a time."""

    def __init__(self, data_dir: Path) -> None:
        from chdb import session

        data_dir.mkdir(parents=True, exist_ok=True)
        self._session: Any = session.Session(str(data_dir))  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._tmp = Path(tempfile.mkdtemp(prefix="rs-ch-insert-"))

    def run(self, sql: str, database: str, body: bytes | None) -> tuple[bytes, str, dict[str, Any]]:
        insert = _INSERT_FORMAT.match(sql) if body else None
        started = time.perf_counter_ns()
        with self._lock:
            try:
                self._session.query(f"USE {database}")
                if insert is not None:
                    assert body is not None
                    path = self._tmp / f"{uuid.uuid4().hex}.bin"
                    path.write_bytes(body)
                    try:
                        target, fmt = insert.group(1), insert.group(2)
                        result = self._session.query(f"{target} SELECT * FROM file('{path}', '{fmt}')")
                    finally:
                        path.unlink(missing_ok=True)
                    fmt_out = "TabSeparated"
                else:
                    clause = _FORMAT_CLAUSE.search(sql)
                    fmt_out = clause.group(1) if clause else "TabSeparated"
                    result = self._session.query(sql, fmt_out)
            except Exception as exc:  # chdb raises its own error types with ClickHouse codes
                message = str(exc)
                raise QueryError(_error_code(message), message) from None
        data = result.bytes() or b""
        summary = {
            "read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
            "written_rows": str(getattr(result, "rows_written", lambda: 0)()),
            "written_bytes": str(getattr(result, "bytes_written", lambda: 0)()),
            "total_rows_to_read": "0", "result_rows": str(result.rows_read()),
            "result_bytes": str(len(data)),
            "elapsed_ns": str(time.perf_counter_ns() - started),
        }
        return data, fmt_out, summary

    def close(self) -> None:
        self._session.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ClickHouseHttpServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _user(self, params: dict[str, str]) -> User:
        name, password = params.get("user", "default"), params.get("password", "")
        if self.headers.get("X-ClickHouse-User"):
            name = self.headers["X-ClickHouse-User"]
            password = self.headers.get("X-ClickHouse-Key", "")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        user = self.server.users.get(name)
        if user is None or not hmac.compare_digest(user.password, password):
            raise QueryError(516, f"{name}: Authentication failed: password is incorrect, or "
                             "there is no user with such name. (AUTHENTICATION_FAILED)", 401)
        return user

    def _handle(self) -> None:
        url = urlparse(self.path)
        if url.path in ("/ping", "/ping/"):
            self._send(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            return
        query_id = str(uuid.uuid4())
        try:
            body = self._body()
            params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            user = self._user(params)
            body = decompress(body, self.headers.get("Content-Encoding", ""))
            sql, data = self._statement(params.get("query", ""), body)
            if user.readonly:
                check_read_only(sql)
            database = params.get("database") or "default"
            if not re.fullmatch(r"\w+", database):
                raise QueryError(81, f"Database {database} does not exist. (UNKNOWN_DATABASE)", 404)
            out, fmt, summary = self.server.engine.run(sql, database, data)
        except QueryError as exc:
            self._fail(exc, query_id)
            return
        except Exception as exc:  # a bug here must answer, not drop the connection
            log.exception("internal error")
            self._fail(QueryError(1001, f"internal error: {exc}"), query_id)
            return
        self._send(200, out, {
            "Content-Type": "application/octet-stream" if fmt in ("Native", "RowBinary", "Arrow",
                                                                  "Parquet") else "text/plain; charset=UTF-8",
            "X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Server-Display-Name": "riskstream-chdb",
            "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
        })

    def _fail(self, exc: QueryError, query_id: str) -> None:
        text = str(exc) if str(exc).startswith("Code:") else f"Code: {exc.code}. DB::Exception: {exc}"
        self._send(exc.status, (text.rstrip() + "\n").encode(), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": str(exc.code), "X-ClickHouse-Query-Id": query_id,
        })

    @staticmethod
    def _statement(param: str, body: bytes) -> tuple[str, bytes | None]:
        """ClickHouse semantics: the URL query comes first; the body continues it or is data.

        ``INSERT ... FORMAT X`` may stand in the URL or at the start of the body; the data
        follows it (after one whitespace character when in the body).
        """
        if param and body and _INSERT_FORMAT.match(param):
            return param, body
        head = _INSERT_IN_BODY.match(body) if not param else None
        if head is not None:
            return head.group(1).decode(), body[head.end():]
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise QueryError(62, "Query is not valid UTF-8. (SYNTAX_ERROR)", 400) from None
        if param and text:
            return f"{param}\n{text}", None
        sql = param or text
        if not sql.strip():
            raise QueryError(62, "Empty query. (SYNTAX_ERROR)", 400)
        return sql, None

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ClickHouseHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine, users: list[User]) -> None:
        super().__init__(address, _Handler)
        self.engine = engine
        self.users = {u.name: u for u in users}


def users_from_env(writer: str = "riskstream", reader: str = "analyst") -> list[User]:
    """Writer password from RS_CLICKHOUSE_PASSWORD, reader's from RS_CLICKHOUSE_READER_PASSWORD."""
    users = []
    for name, var, readonly in ((writer, "RS_CLICKHOUSE_PASSWORD", False),
                                (reader, "RS_CLICKHOUSE_READER_PASSWORD", True)):
        password = os.environ.get(var)
        if not password:
            raise SystemExit(f"set {var}: the password of ClickHouse user '{name}'")
        users.append(User(name, password, readonly))
    return users


def serve(data_dir: Path, host: str, port: int) -> None:
    engine = Engine(data_dir)
    server = ClickHouseHttpServer((host, port), engine, users_from_env())
    log.info("clickhouse http interface on http://%s:%d (data %s; users riskstream, analyst)",
             host, port, data_dir)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        engine.close()
        log.info("clickhouse http interface stopped")
