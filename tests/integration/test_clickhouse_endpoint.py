"""The ClickHouse endpoint as outsiders use it: curl and a plain clickhouse-connect client.

Every escape an analyst tried (files, URLs, settings, other databases, huge bodies) is refused
with ClickHouse's error code; writers do not wait behind analysts; the HTTP interface behaves
as ClickHouse's does for what tools use, or refuses, never ignores.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from riskstream.services import ServiceInfo
from riskstream.storage.migrations import migrate

pytestmark = pytest.mark.integration


def curl(services: ServiceInfo, user: str | None, password: str | None, query: str | None = None,
         *args: str, params: dict[str, str] | None = None, data: bytes | None = None,
         timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Debian's curl against the endpoint: (status, headers, body)."""
    qs = dict(params or {})
    if query is not None:
        qs["query"] = query
    url = f"http://127.0.0.1:{services.clickhouse_port}/?" + urllib.parse.urlencode(qs)
    cmd = ["curl", "-sS", "-D", "-", "--max-time", str(timeout), *args]
    if user is not None:
        cmd += ["-u", f"{user}:{password}"]
    if data is not None:
        cmd += ["--data-binary", "@-"]
    done = subprocess.run([*cmd, url], input=data, capture_output=True, check=True,
                          timeout=timeout + 5)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, headers, body


def analyst(services: ServiceInfo, query: str, *args: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    return curl(services, "analyst", services.clickhouse_reader_password, query, *args, **kw)


def writer(services: ServiceInfo, query: str, *args: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    return curl(services, "riskstream", services.clickhouse_password, query, *args, **kw)


@pytest.fixture
def db(services: ServiceInfo, unique: str) -> Iterator[str]:
    name = f"ep_{unique}"
    client = clickhouse_connect.get_client(host="127.0.0.1", port=services.clickhouse_port,
                                           username="riskstream",
                                           password=services.clickhouse_password)
    migrate(client, name)
    client.command(f"CREATE TABLE {name}.t (n UInt64, s String) ENGINE = MergeTree ORDER BY n")
    client.command(f"INSERT INTO {name}.t SELECT number, toString(number) FROM numbers(1000)")
    yield name
    client.command(f"DROP DATABASE IF EXISTS {name}")


def code(headers: dict[str, str]) -> str:
    return headers.get("x-clickhouse-exception-code", "")


def test_the_analyst_cannot_read_or_write_files_or_urls(services: ServiceInfo, db: str,
                                                        tmp_path: Path) -> None:
    state = Path(services.state_dir)
    target = tmp_path / "written-by-analyst.txt"
    attempts = [
        ("SELECT * FROM file('/etc/os-release', 'LineAsString')", "164"),
        (f"SELECT * FROM file('{state}/*.json', 'LineAsString')", "164"),  # services.json
        (f"SELECT 1 INTO OUTFILE '{target}'", "48"),
        (f"SELECT 1 INTO/**/OUTFILE '{target}' FORMAT CSV", "48"),
        (f"SELECT 1\nINTO\nOUTFILE '{target}' TRUNCATE", "48"),
        (f"SELECT * FROM url('http://127.0.0.1:{services.clickhouse_port}/?query=SELECT+1', "
         "'LineAsString')", "164"),
        ("SELECT * FROM s3('http://127.0.0.1:1/bucket/x.csv', 'CSV')", "164"),
        (f"INSERT INTO {db}.t FROM INFILE '/etc/passwd' FORMAT LineAsString", "48"),
        (f"DROP TABLE {db}.t", "164"),
        (f"INSERT INTO {db}.t VALUES (1, 'x')", "164"),
        ("SELECT 1 SETTINGS readonly = 0", "164"),
        ("SELECT * FROM file('/etc/os-release') SETTINGS readonly = 0", "164"),
        ("KILL QUERY WHERE 1", "164"),
        ("SELECT * FROM default.nope", "497"),
    ]
    for sql, want in attempts:
        status, headers, body = analyst(services, sql)
        assert code(headers) == want, (sql, status, body[:300])
        assert body.startswith(b"Code: "), body[:200]
        assert b"PRETTY_NAME" not in body and b"password" not in body.lower()
    assert not target.exists()
    # the settings an analyst might try to lift the limits with, in the URL
    for params, want in (({"readonly": "0"}, "164"), ({"max_execution_time": "100000"}, "452"),
                         ({"max_memory_usage": "0"}, "452"), ({"allow_ddl": "1"}, "164"),
                         ({"max_threads": "64"}, "452"), ({"no_such_setting": "1"}, "115")):
        status, headers, body = analyst(services, "SELECT 1", params=params)
        assert code(headers) == want, (params, status, body)


def test_analyst_queries_run_within_limits_and_writers_do_not_wait(services: ServiceInfo,
                                                                   db: str) -> None:
    heavy = ("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) % 7 = 1")
    outcome: dict[str, Any] = {}

    def run_heavy() -> None:
        started = time.monotonic()
        outcome["result"] = analyst(services, heavy, params={"max_execution_time": "8"})
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_heavy)
    thread.start()
    time.sleep(1.0)
    waits = []
    for _ in range(5):
        started = time.monotonic()
        status, _, body = writer(services, "SELECT 1")
        waits.append(time.monotonic() - started)
        assert (status, body) == (200, b"1\n")
    thread.join()
    status, headers, body = outcome["result"]
    assert code(headers) == "159" and status == 408  # TIMEOUT_EXCEEDED, as ClickHouse answers
    assert outcome["seconds"] < 30
    assert max(waits) < 1.0, waits  # was 29.6 s behind a 30.6 s analyst query
    # result size is bounded too
    status, headers, _ = analyst(services, f"SELECT * FROM {db}.t", params={"max_result_rows": "10"})
    assert code(headers) == "396", headers  # TOO_MANY_ROWS_OR_BYTES


def test_bodies_are_bounded_before_they_are_read(services: ServiceInfo) -> None:
    status, headers, _ = analyst(services, None, data=b"SELECT 1 -- " + b"x" * (2 * 1024 * 1024))
    assert status == 413 and code(headers) == "229"
    # a stranger's body is never read: refused on the headers alone
    with socket.create_connection(("127.0.0.1", services.clickhouse_port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n"
                     b"Authorization: Basic " + b"bm9ib2R5Om5vbmU=" + b"\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 403") and b"516" in reply


def test_http_behaves_like_clickhouse(services: ServiceInfo, db: str) -> None:
    # malformed auth is an authentication error, not a 500
    status, headers, _ = curl(services, None, None, "SELECT 1", "-H", "Authorization: Basic %%%")
    assert (status, code(headers)) == (403, "516")
    status, headers, body = curl(services, None, None, "SELECT 1",
                                 params={"user": "analyst",
                                         "password": services.clickhouse_reader_password})
    assert (status, code(headers)) == (403, "516") and b"URL" in body
    # errors carry ClickHouse's status; JSON is JSON
    assert analyst(services, "SELEC 1")[0] == 400 and code(analyst(services, "SELEC 1")[1]) == "62"
    assert code(analyst(services, f"SELECT * FROM {db}.nope")[1]) == "60"
    status, headers, body = analyst(services, f"SELECT n FROM {db}.t ORDER BY n LIMIT 2 FORMAT JSON")
    assert headers["content-type"].startswith("application/json") and json.loads(body)["rows"] == 2
    # a ';' inside a string is not a second statement
    assert analyst(services, "SELECT 'a;b'")[2] == b"a;b\n"
    # URL settings, default_format, X-ClickHouse-Format/-Database, query_id are honoured
    status, headers, body = analyst(services, "SELECT n FROM t ORDER BY n LIMIT 3",
                                    params={"default_format": "JSONEachRow", "database": db})
    assert body.splitlines()[0] == b'{"n":"0"}' or body.splitlines()[0] == b'{"n":0}', body
    assert headers["x-clickhouse-format"] == "JSONEachRow"
    status, headers, body = analyst(services, "SELECT count() FROM t", "-H",
                                    f"X-ClickHouse-Database: {db}", "-H", "X-ClickHouse-Format: CSV",
                                    params={"query_id": "q-42"})
    assert (body, headers["x-clickhouse-query-id"]) == (b"1000\n", "q-42")
    assert headers["content-type"].startswith("text/csv")
    status, headers, body = analyst(services, "SELECT getSetting('max_result_rows')",
                                    params={"max_result_rows": "7"})
    assert body == b"7\n"
    # server-side {name:Type} parameters
    status, _, body = analyst(services, f"SELECT s FROM {db}.t WHERE n = {{n:UInt64}}",
                              params={"param_n": "42"})
    assert (status, body) == (200, b"42\n")
    # sessions: settings stay within their session and their user
    session = {"session_id": "s-1"}
    assert analyst(services, "SET max_result_rows = 5", params=session)[0] == 200
    assert analyst(services, "SELECT getSetting('max_result_rows')", params=session)[2] == b"5\n"
    assert analyst(services, "SELECT getSetting('max_result_rows')",
                   params={"session_id": "s-2"})[2] == b"0\n"
    assert writer(services, "SELECT getSetting('max_result_rows')", params=session)[2] == b"0\n"
    status, headers, _ = analyst(services, "SELECT 1", params={"session_id": "s-9",
                                                               "session_check": "1"})
    assert code(headers) == "372"


def test_plain_clickhouse_connect_analyst(services: ServiceInfo, db: str) -> None:
    reader = clickhouse_connect.get_client(host="127.0.0.1", port=services.clickhouse_port,
                                           username="analyst",
                                           password=services.clickhouse_reader_password,
                                           database=db)
    assert reader.command("SELECT count() FROM t") == 1000
    assert reader.query("SELECT n FROM t WHERE n < {k:UInt64} ORDER BY n",
                        parameters={"k": 3}).result_rows == [(0,), (1,), (2,)]
    with pytest.raises(Exception, match=r"164|READONLY|readonly"):
        reader.command("SELECT * FROM file('/etc/os-release', 'LineAsString')")
    with pytest.raises(Exception, match=r"164|READONLY|readonly"):
        reader.command("TRUNCATE TABLE t")


def test_idle_connections_do_not_keep_threads(services: ServiceInfo) -> None:
    socks = [socket.create_connection(("127.0.0.1", services.clickhouse_port), timeout=30)
             for _ in range(80)]
    try:
        # over the connection limit: refused at once, not queued
        refused = 0
        for s in socks[-10:]:
            s.settimeout(5)
            with contextlib.suppress(TimeoutError):
                refused += s.recv(100).startswith(b"HTTP/1.1 503")
        assert refused >= 5
        time.sleep(12)  # past the keep-alive timeout the idle ones are closed
        closed = 0
        for s in socks[:50]:
            s.settimeout(2)
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                closed += s.recv(100) == b""
        assert closed >= 45
    finally:
        for s in socks:
            s.close()
    assert writer(services, "SELECT 1")[2] == b"1\n"


def test_concurrent_clients_each_get_their_own_answer(services: ServiceInfo, db: str) -> None:
    """Writers inserting while others query, all at once (the statement parser once lost
    concurrent requests' parameters: "Substitution `q` is not set")."""
    errors: list[str] = []

    def client(i: int) -> None:
        for j in range(25):
            sql = f"SELECT {i * 1000 + j} AS v, s FROM {db}.t WHERE n = {{n:UInt64}}"
            status, _, body = writer(services, sql, params={"param_n": str(j)})
            if (status, body) != (200, f"{i * 1000 + j}\t{j}\n".encode()):
                errors.append(f"{status} {body[:200]!r}")
            status, _, body = writer(services, f"INSERT INTO {db}.t VALUES ({10_000 + i * 100 + j}, 'x')")
            if status != 200:
                errors.append(f"insert {status} {body[:200]!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert writer(services, f"SELECT count() FROM {db}.t")[2] == b"1200\n"
