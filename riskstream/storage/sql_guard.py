"""What the ClickHouse endpoint checks in a statement and in requested settings (pure).

Statements are inspected in the engine's own canonical form (``formatQuerySingleLine``): the
engine parses the text, so comments, odd spacing and quoting cannot hide a clause from us, and
a statement the engine cannot parse is its syntax error, not ours. On that form:

* ``INTO OUTFILE`` / ``FROM INFILE`` are refused for everyone: in the embedded engine they are
  client-side features that read and write files as the server's user (ClickHouse's own HTTP
  interface has no such clauses either);
* an analyst may run reading statements only (the engine enforces ``readonly=1`` as well), and
  ``SET``/``USE`` are applied by the endpoint to the analyst's HTTP session.

Settings an analyst asks for (URL parameters, ``SET``) go through :class:`AnalystPolicy`: the
limits that keep an analyst from starving the pipeline can be lowered, not raised above their
caps, formatting settings are free, anything else is refused with ClickHouse's error code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ClickHouse error codes (src/Common/ErrorCodes.cpp) used by the endpoint.
SYNTAX_ERROR = 62
NOT_IMPLEMENTED = 48
UNKNOWN_SETTING = 115
UNKNOWN_DATABASE = 81
TIMEOUT_EXCEEDED = 159
READONLY = 164
REQUIRED_PASSWORD = 194
TOO_MANY_SIMULTANEOUS_QUERIES = 202
QUERY_IS_TOO_LARGE = 229
SESSION_NOT_FOUND = 372
SESSION_IS_LOCKED = 373
SETTING_CONSTRAINT_VIOLATION = 452
ACCESS_DENIED = 497
AUTHENTICATION_FAILED = 516
UNSUPPORTED_MEDIA_TYPE = 779
BAD_ARGUMENTS = 36

_NAMES = {
    SYNTAX_ERROR: "SYNTAX_ERROR", NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    UNKNOWN_SETTING: "UNKNOWN_SETTING", UNKNOWN_DATABASE: "UNKNOWN_DATABASE",
    TIMEOUT_EXCEEDED: "TIMEOUT_EXCEEDED", READONLY: "READONLY",
    REQUIRED_PASSWORD: "REQUIRED_PASSWORD",
    TOO_MANY_SIMULTANEOUS_QUERIES: "TOO_MANY_SIMULTANEOUS_QUERIES",
    QUERY_IS_TOO_LARGE: "QUERY_IS_TOO_LARGE", SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
    SESSION_IS_LOCKED: "SESSION_IS_LOCKED",
    SETTING_CONSTRAINT_VIOLATION: "SETTING_CONSTRAINT_VIOLATION", ACCESS_DENIED: "ACCESS_DENIED",
    AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED", UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
    BAD_ARGUMENTS: "BAD_ARGUMENTS",
}

# ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp).
_STATUS: dict[int, int] = {194: 401}
_STATUS.update(dict.fromkeys((192, 193, 516, 512, 497), 403))
_STATUS.update(dict.fromkeys((36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37,
                              123, 8, 167, 168, 223, 62, 117, 53, 321), 400))
_STATUS.update(dict.fromkeys((60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511), 404))
_STATUS.update({229: 413, 48: 501, 209: 503, 76: 503, 381: 411, 159: 408, 439: 503, 779: 415})


def http_status(code: int) -> int:
    """The HTTP status ClickHouse answers an exception with this code with (default 500)."""
    return _STATUS.get(code, 500)


class QueryError(Exception):
    """An error answered the way ClickHouse answers it: code, message, HTTP status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def status(self) -> int:
        return http_status(self.code)

    def text(self) -> str:
        message = str(self)
        if message.startswith("Code:"):
            return message
        name = _NAMES.get(self.code)
        return f"Code: {self.code}. DB::Exception: {message}" + (f" ({name})" if name else "")


def error_code(message: str) -> int:
    match = re.match(r"Code: (\d+)", message)
    return int(match.group(1)) if match else 1000


# -- statements ---------------------------------------------------------------------------

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"", re.S)
_FILE_CLAUSE = re.compile(r"\b(INTO OUTFILE|FROM INFILE)\b")
_FORMAT = re.compile(r"\bFORMAT (\w+)(?: SETTINGS .*)?$")
_QUALIFIED = re.compile(r"(?<![\w.`])`?([A-Za-z_][\w]*)`?\.`?[A-Za-z_]")
READING = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN")


def _unquoted(canonical: str) -> str:
    """The statement with every quoted literal or identifier replaced by a placeholder."""
    return _QUOTED.sub("?", canonical)


@dataclass(frozen=True)
class Statement:
    """A statement as the engine formats it (one line, canonical keywords)."""

    canonical: str
    kind: str = field(init=False)
    bare: str = field(init=False)  # without quoted parts

    def __post_init__(self) -> None:
        bare = _unquoted(self.canonical)
        object.__setattr__(self, "bare", bare)
        object.__setattr__(self, "kind", bare.lstrip("( ").split(" ", 1)[0].upper())

    def file_clause(self) -> str | None:
        match = _FILE_CLAUSE.search(self.bare)
        return match.group(1) if match else None

    def output_format(self) -> str | None:
        match = _FORMAT.search(self.bare)
        return match.group(1) if match else None

    def qualifiers(self) -> set[str]:
        """Names used as ``name.something`` (databases, or table aliases)."""
        return {m.group(1) for m in _QUALIFIED.finditer(self.bare)}


def check_files(stmt: Statement) -> None:
    clause = stmt.file_clause()
    if clause:
        raise QueryError(NOT_IMPLEMENTED, f"{clause} is not allowed through the HTTP interface: "
                         "it would read or write files on the server")


_SET_ITEM = re.compile(r"\s*`?(\w+)`?\s*=\s*('(?:[^'\\]|\\.)*'|[^,]+?)\s*(?:,|$)")


def parse_set(canonical: str) -> dict[str, str]:
    """``SET a = 1, b = 'x'`` (canonical form) -> {"a": "1", "b": "x"}."""
    body = canonical.strip()[4:] if canonical.upper().startswith("SET ") else ""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        match = _SET_ITEM.match(body, pos)
        if not match:
            raise QueryError(SYNTAX_ERROR, f"cannot read the SET statement: {canonical[:200]}")
        name, value = match.group(1), match.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[name] = value
        pos = match.end()
    return out


def quote(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def escape_param(value: str) -> str:
    """A value as ClickHouse reads a ``{name:String}`` parameter (the escaped text format)."""
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


# -- settings -----------------------------------------------------------------------------

GiB = 1024**3
MiB = 1024**2
# URL parameters of the HTTP interface that are not settings.
TRANSPORT_PARAMS = frozenset({
    "query", "database", "default_format", "query_id", "session_id", "session_timeout",
    "session_check", "user", "password", "compress", "decompress", "buffer_size", "quota_key",
    "stacktrace", "client_protocol_version", "role", "default_session_timeout",
})
# Settings that shape only the HTTP exchange: accepted, with the behaviour documented in the
# README (the whole result is sent after the query ends, as wait_end_of_query=1 does).
HTTP_SETTINGS = frozenset({
    "enable_http_compression", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "wait_end_of_query", "http_response_buffer_size",
    "cancel_http_readonly_queries_on_client_close", "add_http_cors_header",
    "http_zlib_compression_level", "http_native_compression_disable_checksumming_on_decompress",
    "output_format_parallel_formatting",
})


@dataclass(frozen=True)
class AnalystPolicy:
    """The limits an analyst's query runs under, and what an analyst may change."""

    defaults: dict[str, str] = field(default_factory=lambda: {
        "max_execution_time": "30", "max_memory_usage": str(GiB), "max_threads": "1",
        "max_result_bytes": str(256 * MiB), "result_overflow_mode": "throw",
        "max_query_size": str(256 * 1024), "max_ast_elements": "50000",
    })
    caps: dict[str, float] = field(default_factory=lambda: {
        "max_execution_time": 300, "max_memory_usage": 4 * GiB, "max_threads": 2,
        "max_result_bytes": 1024 * MiB, "max_result_rows": 10**9, "max_query_size": 1024**2,
        "max_ast_elements": 500_000, "max_block_size": 1_000_000,
    })
    free: frozenset[str] = frozenset({
        "result_overflow_mode", "extremes", "join_use_nulls", "log_comment",
        "date_time_output_format", "session_timezone", "use_client_time_zone",
        "output_format_decimal_trailing_zeros",
    })
    free_prefixes: tuple[str, ...] = ("output_format_", "format_")

    def check(self, name: str, value: str, known: frozenset[str]) -> str | None:
        """The value to apply (None: an HTTP-layer setting, nothing to apply); raises
        :class:`QueryError` as ClickHouse would for a read-only user with constraints."""
        if name not in known:
            raise QueryError(UNKNOWN_SETTING, f"Unknown setting '{name}'")
        if name in HTTP_SETTINGS:
            return None
        if name == "readonly":
            if value.strip() != "1":
                raise QueryError(READONLY, "Cannot modify 'readonly' setting in readonly mode")
            return None  # it is 1 anyway
        if name in self.caps:
            try:
                number = float(value)
            except ValueError:
                raise QueryError(BAD_ARGUMENTS, f"Setting {name}: {value!r} is not a number") from None
            cap = self.caps[name]
            if number > cap or (number == 0 and name != "max_result_rows"):  # 0 means no limit
                raise QueryError(SETTING_CONSTRAINT_VIOLATION,
                                 f"Setting {name} shouldn't be greater than {cap:g} (or 0, no "
                                 "limit) for the read-only user")
            return value
        if name in self.free or name.startswith(self.free_prefixes):
            return value
        raise QueryError(READONLY, f"Cannot modify '{name}' setting in readonly mode")
