"""ClickHouse errors told in one line, and which of them a retry or a restart cannot mend.

clickhouse-connect raises its own exceptions with the server's whole answer (and, uncaught, a
driver traceback). The CLI and the worker need three things from one: the server's own line,
whether the server answered at all (a refused password or a bad query will be refused again;
a server that did not answer may be up in a moment), and whether it was the credentials.
Kept free of the driver's import so the CLI can use it on any path.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED
AUTH_FAILURE_CODES = frozenset({192, 193, 194, 516})
_FOR_URL = re.compile(r"\s*\(for url ([^)]*)\)\s*$")
_URL = re.compile(r"https?://[^\s)'\"]+")
_OS_ERROR = re.compile(r"\[Errno \d+\] [^\"')]+")
_MAX_LINE = 400


def server_code(exc: BaseException) -> int | None:
    """The ClickHouse error code the server answered with; None when it did not answer."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def refused(exc: BaseException) -> bool:
    """The server answered with an error: asking again the same way gets the same answer."""
    return server_code(exc) is not None


def auth_failed(exc: BaseException) -> bool:
    return server_code(exc) in AUTH_FAILURE_CODES


def one_line(exc: BaseException) -> str:
    """The server's own message (its first line, without the driver's wrapping), or, for a
    server that did not answer, the operating system's reason (connection refused, ...)."""
    text = str(exc).strip()
    if not refused(exc):
        found = _OS_ERROR.search(text)
        text = found.group(0) if found else text
    _, sep, answer = text.partition("server response: ")
    lines = (answer if sep else text).strip().splitlines()
    first = _FOR_URL.sub("", lines[0]).strip() if lines else type(exc).__name__
    return first if len(first) <= _MAX_LINE else first[: _MAX_LINE - 3] + "..."


def redact(dsn: str) -> str:
    """The DSN without a password in it (``http://user:secret@host`` -> ``http://user@host``)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}"))


def describe(exc: BaseException, dsn: str = "", password_env: str = "") -> str:
    """One line for a user: where, what the server said (or why it did not), what to check."""
    named = _FOR_URL.search(str(exc).strip()) or _URL.search(str(exc))
    url = dsn or (named.group(named.lastindex or 0) if named else "")
    where = f"ClickHouse at {redact(url)}" if url else "ClickHouse"
    if auth_failed(exc):
        hint = f"; check {password_env}" if password_env else ""
        return f"{where} refused the credentials: {one_line(exc)}{hint}"
    if refused(exc):
        return f"{where} answered with an error: {one_line(exc)}"
    return f"{where} did not answer: {one_line(exc)}"
