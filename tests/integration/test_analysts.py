"""Analysts' side: the example queries on seeded data, and the read-only HTTP endpoint
driven by an unmodified clickhouse-connect client and by plain HTTP (as curl would)."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import math
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import clickhouse_connect
import pytest

from riskstream.events import Alert, AlertStatus, Lifecycle, ReadingSummary, Severity
from riskstream.services import ServiceInfo
from riskstream.storage import rows
from riskstream.storage.migrations import migrate
from riskstream.storage.queries import run
from riskstream.streams.sinks.clickhouse import TableSink
from riskstream.testing import make_event

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)


def client(services: ServiceInfo, analyst: bool) -> Any:
    """An unmodified clickhouse-connect HTTP client, as any analyst tool would create it."""
    user, password = (("analyst", services.clickhouse_reader_password) if analyst
                      else ("riskstream", services.clickhouse_password))
    return clickhouse_connect.get_client(host="127.0.0.1", port=services.clickhouse_port,
                                         username=user, password=password)


@pytest.fixture
def seeded(services: ServiceInfo, unique: str) -> Iterator[str]:
    db = f"an_{unique}"
    writer = client(services, analyst=False)
    migrate(writer, db)
    events = [
        make_event(site_id="plant-a", point_id="tank-farm", severity=Severity.CRITICAL, score=1.0,
                   ts=NOW - timedelta(hours=1)),
        make_event(site_id="plant-a", point_id="tank-farm", severity=Severity.WARNING,
                   ts=NOW - timedelta(hours=2)),
        make_event(site_id="plant-a", point_id="reactor", severity=Severity.WARNING,
                   ts=NOW - timedelta(hours=3)),
        make_event(site_id="plant-b", point_id="pump", severity=Severity.MAJOR, score=0.9,
                   ts=NOW - timedelta(hours=4)),
        make_event(site_id="plant-b", point_id="old", severity=Severity.CRITICAL,
                   ts=NOW - timedelta(hours=30)),  # outside the last 24 h
    ]
    TableSink(writer, db, rows.EVENTS).write(events)
    opened = NOW - timedelta(hours=5)

    def alert(aid: str, district: str, severity: Severity, status: AlertStatus, ack_s: float | None,
              resolve_s: float | None) -> Alert:
        acked = opened + timedelta(seconds=ack_s) if ack_s is not None else None
        lifecycle = Lifecycle(opened_at=opened, acknowledged_at=acked)
        updated = opened + timedelta(seconds=resolve_s or ack_s or 0)
        return Alert(alert_id=aid, rule="r", site_id="plant-a", district=district,
                     severity=severity, first_ts=opened, last_ts=opened + timedelta(minutes=1),
                     event_ids=("e",), explanation="test alert", status=status, revision=2,
                     updated_at=updated, attrs={"key": "site"}, lifecycle=lifecycle)

    TableSink(writer, db, rows.ALERTS).write([
        alert("A1", "harbour", Severity.CRITICAL, AlertStatus.RESOLVED, 60, 600),
        alert("A2", "harbour", Severity.MAJOR, AlertStatus.ACKNOWLEDGED, 120, None),
        alert("A3", "riverside", Severity.MAJOR, AlertStatus.OPEN, None, None),
    ])
    readings = []
    start = NOW - timedelta(minutes=20)
    for i in range(20 * 60):  # the last 20 minutes of 1 s summaries
        t = start + timedelta(seconds=i)
        readings.append(ReadingSummary("plant-a", "gas-live", "combustible_gas", "%LEL", t, 1,
                                       float(i % 7), float(i % 7) + 1, float(i % 7) + 0.5,
                                       float(i % 7) + 1, 4))
        readings.append(ReadingSummary("plant-a", "temp-stuck", "temperature", "degC", t, 1,
                                       21.5, 21.5, 21.5, 21.5, 1))
    old = NOW - timedelta(hours=2)
    readings.append(ReadingSummary("plant-a", "gas-dead", "combustible_gas", "%LEL", old, 1,
                                   1.0, 2.0, 1.5, 2.0, 3))
    TableSink(writer, db, rows.READINGS).write(readings)
    yield db
    writer.command(f"DROP DATABASE IF EXISTS {db}")


def test_top_risk_points(services: ServiceInfo, seeded: str) -> None:
    cols, result = run(client(services, analyst=True), "top-risk-points", seeded)
    assert cols[:5] == ["site_id", "point_id", "district", "events", "severe"]
    assert [(r[0], r[1], r[3], r[4]) for r in result] == [
        ("plant-a", "tank-farm", 2, 1), ("plant-b", "pump", 1, 1), ("plant-a", "reactor", 1, 0)]


def test_alerts_by_district_with_time_to_ack_and_resolve(services: ServiceInfo, seeded: str) -> None:
    cols, result = run(client(services, analyst=True), "alerts-by-district", seeded)
    got = {r[0]: dict(zip(cols, r, strict=True)) for r in result}
    assert got["harbour"]["alerts"] == 2 and got["harbour"]["critical"] == 1
    assert got["harbour"]["unresolved"] == 1
    assert got["harbour"]["avg_ack_s"] == 90.0  # (60 + 120) / 2
    assert got["harbour"]["avg_resolve_s"] == 600.0
    assert got["riverside"]["alerts"] == 1 and got["riverside"]["unresolved"] == 1
    no_ack = got["riverside"]["avg_ack_s"]  # never acknowledged: no time to ack (NULL or NaN)
    assert no_ack is None or math.isnan(no_ack)


def test_silent_and_stuck_sensors(services: ServiceInfo, seeded: str) -> None:
    _, result = run(client(services, analyst=True), "silent-or-stuck-sensors", seeded)
    states = {r[1]: r[-1] for r in result}
    assert states == {"gas-dead": "silent", "temp-stuck": "stuck"}


def test_readings_around_an_alert(services: ServiceInfo, seeded: str) -> None:
    writer = client(services, analyst=False)
    t0 = NOW - timedelta(minutes=10)
    TableSink(writer, seeded, rows.ALERTS).write([Alert(
        alert_id="A9", rule="r", site_id="plant-a", district="harbour", severity=Severity.MAJOR,
        first_ts=t0, last_ts=t0 + timedelta(minutes=1), event_ids=("e",), explanation="x")])
    cols, result = run(client(services, analyst=True), "readings-around-alert", seeded,
                       alert_id="A9", minutes=2)
    minutes = sorted({r[3] for r in result if r[0] == "gas-live"})
    # from 2 minutes before the alert's first minute to 2 minutes after its last_ts
    first = t0.replace(second=0, tzinfo=None) - timedelta(minutes=2)
    assert minutes == [first + timedelta(minutes=i) for i in range(6)]
    row = next(r for r in result if r[0] == "gas-live")
    values = dict(zip(cols, row, strict=True))
    assert values["readings"] == 60 * 4 and values["min"] == 0.0 and values["max"] == 7.0
    with pytest.raises(ValueError, match="alert_id"):
        run(client(services, analyst=True), "readings-around-alert", seeded)


# -- the endpoint itself ------------------------------------------------------------------


def _http(services: ServiceInfo, user: str, password: str, query: str, body: bytes = b"",
          headers: dict[str, str] | None = None, chunked: bool = False) -> tuple[int, bytes, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", services.clickhouse_port, timeout=30)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    hdrs = {"Authorization": f"Basic {auth}", **(headers or {})}
    url = "/?" + urllib.parse.urlencode({"query": query}) if query else "/"
    if chunked:
        conn.putrequest("POST", url)
        for k, v in {**hdrs, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        conn.send(b"0\r\n\r\n")
    else:
        conn.request("POST", url, body=body, headers=hdrs)
    resp = conn.getresponse()
    return resp.status, resp.read(), resp.headers


def test_endpoint_speaks_http_like_clickhouse(services: ServiceInfo, seeded: str) -> None:
    writer_pw, reader_pw = services.clickhouse_password, services.clickhouse_reader_password
    status, body, headers = _http(services, "analyst", reader_pw,
                                  f"SELECT count() FROM {seeded}.events FORMAT JSONEachRow")
    assert status == 200 and json.loads(body)["count()"] in (5, "5")
    assert headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert headers["X-ClickHouse-Timezone"] == "UTC"
    assert '"read_rows"' in headers["X-ClickHouse-Summary"]
    # chunked + gzip-compressed body holding the query, as curl --data-binary @- would send
    status, body, _ = _http(services, "analyst", reader_pw, "",
                            gzip.compress(f"SELECT 40 + 2 FROM {seeded}.events LIMIT 1".encode()),
                            {"Content-Encoding": "gzip"}, chunked=True)
    assert (status, body) == (200, b"42\n")
    # writer inserts TSV data in the body after an INSERT in the URL
    status, body, _ = _http(services, "riskstream", writer_pw,
                            f"INSERT INTO {seeded}.schema_migrations (version, description) "
                            "FORMAT TabSeparated", b"900\tfrom curl\n")
    assert status == 200, body
    # the analyst may not write, drop, or chain statements
    for sql in (f"DROP TABLE {seeded}.events", f"INSERT INTO {seeded}.events (event_id) VALUES ('x')",
                f"SELECT 1; DROP TABLE {seeded}.events"):
        status, body, headers = _http(services, "analyst", reader_pw, sql)
        # ClickHouse's own statuses: READONLY is a 500 there, a syntax error a 400
        assert (status, headers["X-ClickHouse-Exception-Code"]) in ((500, "164"), (400, "62"))
        assert body.startswith(b"Code: ")
    status, body, headers = _http(services, "analyst", "wrong", "SELECT 1")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "516"
    status, body, _ = _http(services, "riskstream", writer_pw, "SELECT * FROM nowhere")
    assert (status == 500 and b"UNKNOWN_TABLE" in body) or b"Unknown table" in body
    conn = http.client.HTTPConnection("127.0.0.1", services.clickhouse_port, timeout=10)
    conn.request("GET", "/ping")
    assert conn.getresponse().read() == b"Ok.\n"


def test_unmodified_clickhouse_connect_client(services: ServiceInfo, unique: str) -> None:
    writer, reader = client(services, analyst=False), client(services, analyst=True)
    db = f"cc_{unique}"
    migrate(writer, db)  # analysts read riskstream's (migrated) databases only
    writer.command(f"CREATE TABLE {db}.t (id UInt32, name String, ts DateTime64(3, 'UTC'), "
                   "tags Array(String), m Map(String, Float64), v Nullable(Float64)) "
                   "ENGINE = MergeTree ORDER BY id")
    data = [[i, f"n{i}", NOW, ["a", "b"][: i % 3], {"k": float(i)}, None if i % 2 else i / 2]
            for i in range(5000)]
    summary = writer.insert(f"{db}.t", data, column_names=["id", "name", "ts", "tags", "m", "v"])
    assert summary.written_rows == 5000
    assert reader.command(f"SELECT count() FROM {db}.t") == 5000
    first = reader.query(f"SELECT * FROM {db}.t ORDER BY id LIMIT 2").result_rows
    assert first[0][:2] == (0, "n0") and first[1][3] == ["a"] and first[1][4] == {"k": 1.0}
    assert reader.query_arrow(f"SELECT id FROM {db}.t").num_rows == 5000
    assert reader.query(f"SELECT sum(id) FROM {db}.t WHERE id < %(n)s",
                        parameters={"n": 10}).result_rows == [(45,)]
    with pytest.raises(Exception, match="readonly"):
        reader.command(f"TRUNCATE TABLE {db}.t")
    writer.command(f"DROP DATABASE {db}")
