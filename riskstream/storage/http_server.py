"""The ClickHouse HTTP interface in front of the embedded engine (:mod:`riskstream.storage.engine`).

chdb allows one process per data folder, so this process owns it and everybody else — stream
workers, analysts with clickhouse-connect or curl, the tests — uses the same ``http://`` DSN
they would use against a ClickHouse server.

Behaves as ClickHouse's HTTP interface does for what analysts' tools use, or refuses with
ClickHouse's error code and HTTP status; nothing is ignored silently:

* GET/POST ``/?query=...`` with the query in the URL and/or the body; ``INSERT ... FORMAT X``
  with the data in the body; chunked bodies; gzip/deflate/lz4/zstd request bodies; compressed
  responses with ``enable_http_compression=1``; ``/ping``;
* ``database`` / ``X-ClickHouse-Database``, ``default_format`` / ``X-ClickHouse-Format``,
  ``query_id`` (echoed), ``session_id`` (isolated per user), ``param_<name>`` for
  ``{name:Type}`` placeholders, any setting as a URL parameter (the analyst's within limits);
* credentials by HTTP Basic auth or ``X-ClickHouse-User``/``-Key``; a password in the URL is
  refused (URLs end up in logs and shell history); the body is read only after authentication
  and only up to the user's limit; idle connections are closed after
  :data:`KEEP_ALIVE_TIMEOUT_S`; at most :data:`MAX_CONNECTIONS` connections at once;
* the X-ClickHouse-Summary/-Format/-Timezone/-Query-Id/-Exception-Code headers and each
  format's Content-Type. TCP_NODELAY avoids the 40 ms delayed-ACK stall on small responses.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hmac
import io
import json
import logging
import os
import re
import socket
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from riskstream.storage.engine import Engine, Request, Result, User
from riskstream.storage.sql_guard import (
    AUTHENTICATION_FAILED,
    QUERY_IS_TOO_LARGE,
    SYNTAX_ERROR,
    TOO_MANY_SIMULTANEOUS_QUERIES,
    TRANSPORT_PARAMS,
    UNSUPPORTED_MEDIA_TYPE,
    MiB,
    QueryError,
)

log = logging.getLogger(__name__)

KEEP_ALIVE_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64
WRITER_BODY_LIMIT = 256 * MiB
ANALYST_BODY_LIMIT = 1 * MiB
_INSERT_IN_BODY = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?\s+FORMAT\s+\w+)[ \t]*(\r?\n|$)", re.I | re.S)
_INSERT_FORMAT = re.compile(r"^\s*INSERT\s+INTO\s+.+?\s+FORMAT\s+\w+\s*;?\s*$", re.I | re.S)
_BINARY = ("Native", "RowBinary", "RowBinaryWithNames", "RowBinaryWithNamesAndTypes", "Arrow",
           "ArrowStream", "Parquet", "ORC", "Avro", "Protobuf", "MsgPack", "Npy", "BSONEachRow")


def content_type(fmt: str) -> str:
    """The Content-Type ClickHouse gives a result in ``fmt``."""
    if fmt.startswith("JSON") or fmt.startswith("PrettyJSON"):
        return "application/json; charset=UTF-8"
    if fmt.startswith("CSV"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "Names" in fmt else "absent")
    if fmt.startswith(("TabSeparated", "TSV")):
        return "text/tab-separated-values; charset=UTF-8"
    if fmt == "XML":
        return "application/xml; charset=UTF-8"
    if fmt in _BINARY:
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """The request body decoded, refused above ``limit`` bytes (a compressed bomb included)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    too_large = QueryError(QUERY_IS_TOO_LARGE, f"Request body is larger than {limit} bytes "
                           "when decompressed")
    try:
        if encoding in ("gzip", "deflate"):
            stream = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
            out = stream.decompress(body, limit + 1)
        elif encoding == "lz4":
            import lz4.frame

            buf, rest = bytearray(), body
            while rest and len(buf) <= limit:  # clients may send several concatenated frames
                decoder = lz4.frame.LZ4FrameDecompressor()
                buf += decoder.decompress(rest, max_length=limit + 1 - len(buf))
                if not decoder.eof and decoder.needs_input is False:
                    raise too_large
                rest = decoder.unused_data
            out = bytes(buf)
        elif encoding == "zstd":
            try:
                import zstandard
            except ImportError:
                raise QueryError(UNSUPPORTED_MEDIA_TYPE, "zstd request bodies need the "
                                 "zstandard package") from None
            out = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read(limit + 1)
        else:
            raise QueryError(UNSUPPORTED_MEDIA_TYPE, f"Unknown Content-Encoding {encoding!r}")
    except QueryError:
        raise
    except Exception as exc:
        raise QueryError(SYNTAX_ERROR, f"Cannot decompress the {encoding} request body: {exc}") from None
    if len(out) > limit:
        raise too_large
    return out


def compress(body: bytes, accept: str) -> tuple[bytes, str | None]:
    """Compress a response as ``enable_http_compression=1`` asks, by ``Accept-Encoding``."""
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "lz4" in offered:
        import lz4.frame

        return lz4.frame.compress(body), "lz4"
    if "gzip" in offered:
        return gzip.compress(body, compresslevel=3), "gzip"
    if "deflate" in offered:
        return zlib.compress(body, 3), "deflate"
    return body, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = KEEP_ALIVE_TIMEOUT_S  # an idle keep-alive connection is closed, its thread freed
    server: ClickHouseHttpServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def handle_expect_100(self) -> bool:
        """Say "100 Continue" only once the user is known and the body within its limit."""
        self._expect_continue = True
        return True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    # -- request ----------------------------------------------------------------------

    def _user(self, params: dict[str, str]) -> User:
        if "password" in params:
            raise QueryError(AUTHENTICATION_FAILED, "A password in the URL is not accepted (URLs "
                             "end up in logs and shell history): use HTTP Basic auth (curl -u "
                             "user:password) or the X-ClickHouse-User/X-ClickHouse-Key headers")
        name, password = params.get("user", "default"), ""
        if self.headers.get("X-ClickHouse-User"):
            name = self.headers["X-ClickHouse-User"]
            password = self.headers.get("X-ClickHouse-Key", "")
        auth = self.headers.get("Authorization", "")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "basic":
                raise QueryError(AUTHENTICATION_FAILED, f"Unsupported Authorization scheme "
                                 f"{scheme[:20]!r}: use Basic")
            try:
                name, sep, password = base64.b64decode(token, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise QueryError(AUTHENTICATION_FAILED, "Malformed Authorization header (expected "
                                 "Basic base64(user:password))") from None
            if not sep:
                raise QueryError(AUTHENTICATION_FAILED, "Malformed Authorization header (no ':' "
                                 "between user and password)")
        user = self.server.users.get(name)
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            log.warning("authentication failed for user %r from %s", name[:64], self.client_address[0])
            raise QueryError(AUTHENTICATION_FAILED, f"{name[:64]}: Authentication failed: password "
                             "is incorrect, or there is no user with such name.")
        return user

    def _body(self, limit: int) -> bytes:
        too_large = QueryError(QUERY_IS_TOO_LARGE, f"Request body is larger than {limit} bytes, "
                               "the limit for this user")
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        try:
            length = 0 if chunked else int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise QueryError(SYNTAX_ERROR, "Malformed Content-Length") from None
        if length > limit:
            self.close_connection = True  # the body stays unread
            raise too_large
        if getattr(self, "_expect_continue", False):
            self._expect_continue = False
            self.send_response_only(100)
            self.end_headers()
        if chunked:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    raise QueryError(SYNTAX_ERROR, "Malformed chunked request body") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > limit:
                    self.close_connection = True
                    raise too_large
                out += self.rfile.read(size)
                self.rfile.readline(1024)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        url = urlparse(self.path)
        if url.path in ("/ping", "/ping/") or (url.path == "/" and not url.query
                                               and self.command == "GET"):
            self._send(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        try:
            user = self._user(params)
        except QueryError as exc:
            self._expect_continue = False
            self.close_connection = True  # never read a stranger's body
            self._fail(exc, query_id)
            return
        try:
            body = self._body(ANALYST_BODY_LIMIT if user.readonly else self.server.writer_body_limit)
            limit = ANALYST_BODY_LIMIT if user.readonly else self.server.writer_body_limit
            body = decompress(body, self.headers.get("Content-Encoding", ""), limit)
            req = self._request(user, params, body)
            result = self.server.engine.run(req)
        except QueryError as exc:
            self._fail(exc, query_id)
            return
        except Exception as exc:  # a bug here must answer, not drop the connection
            log.exception("internal error")
            self._fail(QueryError(1001, f"internal error: {exc!r}"), query_id)
            return
        self._reply(result, params, query_id)

    def _request(self, user: User, params: dict[str, str], body: bytes) -> Request:
        sql, data = self._statement(params.get("query", ""), body)
        settings = {k: v for k, v in params.items()
                    if k not in TRANSPORT_PARAMS and not k.startswith("param_")}
        try:
            timeout = float(params.get("session_timeout") or 60)
        except ValueError:
            raise QueryError(36, "session_timeout must be a number of seconds") from None
        return Request(
            user=user, sql=sql, data=data,
            database=self.headers.get("X-ClickHouse-Database") or params.get("database") or None,
            settings=settings,
            params={k[6:]: v for k, v in params.items() if k.startswith("param_")},
            default_format=(self.headers.get("X-ClickHouse-Format") or params.get("default_format")
                            or "TabSeparated"),
            session_id=params.get("session_id") or None, session_timeout=timeout,
            session_check=params.get("session_check") == "1",
        )

    @staticmethod
    def _statement(param: str, body: bytes) -> tuple[str, bytes | None]:
        """ClickHouse semantics: the URL query comes first; the body continues it or is data.

        ``INSERT ... FORMAT X`` may stand in the URL or at the start of the body; the data
        follows it (after one line break when in the body).
        """
        if param and body and _INSERT_FORMAT.match(param):
            return param, body
        head = _INSERT_IN_BODY.match(body) if not param else None
        if head is not None:
            return head.group(1).decode(), body[head.end():]
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise QueryError(SYNTAX_ERROR, "Query is not valid UTF-8") from None
        if param and text:
            return f"{param}\n{text}", None
        sql = param or text
        if not sql.strip():
            raise QueryError(SYNTAX_ERROR, "Empty query")
        return sql, None

    # -- response ---------------------------------------------------------------------

    def _reply(self, result: Result, params: dict[str, str], query_id: str) -> None:
        data, encoding = result.data, None
        if params.get("enable_http_compression") == "1" and data:
            data, encoding = compress(data, self.headers.get("Accept-Encoding", ""))
        headers = {
            "Content-Type": content_type(result.format),
            "X-ClickHouse-Format": result.format, "X-ClickHouse-Timezone": self.server.engine.timezone,
            "X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Server-Display-Name": "riskstream-chdb",
            "X-ClickHouse-Summary": json.dumps(result.summary, separators=(",", ":")),
        }
        if encoding:
            headers["Content-Encoding"] = encoding
        if params.get("session_id"):
            headers["X-ClickHouse-Session-Id"] = params["session_id"]
        self._send(200, data, headers)

    def _fail(self, exc: QueryError, query_id: str) -> None:
        self._send(exc.status, (exc.text().rstrip() + "\n").encode(), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": str(exc.code), "X-ClickHouse-Query-Id": query_id,
        })

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class ClickHouseHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # accept a burst of connections, then answer or refuse each

    def __init__(self, address: tuple[str, int], engine: Engine, users: list[User],
                 writer_body_limit: int = WRITER_BODY_LIMIT) -> None:
        super().__init__(address, _Handler)
        self.engine = engine
        self.users = {u.name: u for u in users}
        self.writer_body_limit = writer_body_limit
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._connections.acquire(blocking=False):  # refuse at once, keep no thread
            try:
                err = QueryError(TOO_MANY_SIMULTANEOUS_QUERIES,
                                 f"Too many connections (limit {MAX_CONNECTIONS})")
                body = (err.text() + "\n").encode()
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                b"X-ClickHouse-Exception-Code: 202\r\nContent-Length: "
                                + str(len(body)).encode() + b"\r\n\r\n" + body)
            finally:
                self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()


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
