"""What the console reads from ClickHouse (as the read-only analyst user): an alert's
contributing events, its sensors' readings around it with their setpoints, and the alarm
KPIs. Queries take parameters, never text pasted into SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from riskstream.alarms import kpi
from riskstream.center.accounts import User
from riskstream.center.board import Board
from riskstream.config.schema import Config
from riskstream.events import Alert, utc_now

AROUND = timedelta(minutes=10)
MAX_POINTS = 5000


class CenterData:
    def __init__(self, client: Any, cfg: Config, board: Board) -> None:
        self.client, self.db, self.board = client, cfg.clickhouse.database, board
        self.sensors = {s.id: s for s in cfg.sensors}

    def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        result = self.client.query(sql, parameters=params)
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    def events(self, alert: Alert) -> list[dict[str, Any]]:
        rows = self._rows(
            f"SELECT event_id, kind, source_id, point_id, severity, ts, value, unit, score "
            f"FROM {self.db}.events FINAL WHERE site_id = {{site:String}} "
            f"AND event_id IN {{ids:Array(String)}} ORDER BY ts LIMIT 200",
            site=alert.site_id, ids=list(alert.event_ids))
        return [{**r, "ts": _iso(r["ts"])} for r in rows]

    def readings(self, alert: Alert) -> dict[str, Any]:
        sources = sorted({e["source_id"] for e in self.events(alert)} & set(self.sensors))
        if not sources:
            return {"series": []}
        rows = self._rows(
            f"SELECT source_id, ts, mean FROM {self.db}.readings FINAL "
            f"WHERE site_id = {{site:String}} AND window_s = 1 AND source_id IN {{ids:Array(String)}} "
            f"AND ts BETWEEN {{start:DateTime64(3)}} AND {{end:DateTime64(3)}} "
            f"ORDER BY source_id, ts LIMIT {MAX_POINTS}",
            site=alert.site_id, ids=sources, start=alert.first_ts - AROUND, end=alert.last_ts + AROUND)
        series = []
        for source in sources:
            sensor = self.sensors[source]
            th = sensor.thresholds
            points = [[_iso(r["ts"]), r["mean"]] for r in rows if r["source_id"] == source]
            if points:
                series.append({"source_id": source, "metric": sensor.metric, "unit": sensor.unit,
                               "warning": th.warning if th else None,
                               "alarm": th.alarm if th else None, "points": points})
        return {"series": series}

    def kpis(self, user: User, hours: float = 24.0) -> dict[str, Any]:
        end = utc_now()
        start = end - timedelta(hours=hours)
        rows = self._rows(
            f"SELECT site_id, rule, JSONExtractString(attrs, 'key') AS key, district, opened_at, "
            f"status FROM {self.db}.alerts FINAL WHERE opened_at >= {{start:DateTime64(3)}} "
            f"AND rule NOT IN ('out-of-service', 'suppressed-by-design')", start=start)
        acts = sorted((kpi.Activation(f"{r['site_id']}/{r['rule']}/{r['key']}", r["district"],
                                      _utc(r["opened_at"]))
                       for r in rows if user.sees(r["district"])), key=lambda a: a.at)
        current = [a for a in self.board.view(user)]
        scopes = kpi.per_district(acts, current, start, end)
        if not user.role.city_wide:
            scopes = {k: v for k, v in scopes.items() if k == user.district}
        return {"start": _iso(start), "end": _iso(end),
                "scopes": {k: _kpi_json(v) for k, v in scopes.items()}}


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat().replace("+00:00", "Z")


def _kpi_json(k: kpi.Kpis) -> dict[str, Any]:
    return {**k.__dict__, "floods": [[_iso(a), _iso(b), n] for a, b, n in k.floods]}
