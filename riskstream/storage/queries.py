"""Analysts' example queries: documented, runnable (``riskstream query NAME``) and tested.

Each runs as the read-only ``analyst`` user against the ``riskstream`` database (or the
configured one). Parameters use clickhouse-connect's client-side ``%(name)s`` binding, so
they work against the embedded endpoint and any ClickHouse server alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NamedQuery:
    name: str
    question: str
    sql: str
    defaults: dict[str, Any] = field(default_factory=dict)

    def render(self, database: str) -> str:
        return self.sql.replace("{db}", database)

    def parameters(self) -> list[str]:
        """Every parameter the SQL uses, in order of first use."""
        return list(dict.fromkeys(re.findall(r"%\((\w+)\)s", self.sql)))

    def bind(self, given: dict[str, str]) -> dict[str, Any]:
        """The values to run with: defaults, then ``given`` (text, as typed on a command line)
        converted to each default's type; raises :class:`QueryParamError` naming the problem."""
        known = self.parameters()
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise QueryParamError(f"query {self.name} has no parameter {', '.join(unknown)} "
                                  f"(it takes: {', '.join(known) or 'none'})")
        values: dict[str, Any] = dict(self.defaults)
        for key, text in given.items():
            default = self.defaults.get(key)
            kind = type(default) if isinstance(default, int | float) else str
            try:
                values[key] = kind(text)
            except ValueError:
                raise QueryParamError(f"query {self.name}: {key} must be a number "
                                      f"({kind.__name__}), got {text!r}") from None
        missing = [p for p in known if p not in values]
        if missing:
            raise QueryParamError(f"query {self.name} needs parameter(s): {', '.join(missing)} "
                                  f"(-p {missing[0]}=...)")
        return values


class QueryParamError(ValueError):
    """A named query's parameters are missing, unknown or of the wrong type."""


QUERIES = [
    NamedQuery(
        "top-risk-points",
        "Which risk points raised the most severe events in the last N hours?",
        """
SELECT site_id, point_id, any(district) AS district, count() AS events,
       countIf(severity IN ('major', 'critical')) AS severe, round(max(score), 3) AS max_score,
       max(ts) AS latest
FROM {db}.events FINAL
WHERE ts >= now64(3) - toIntervalHour(%(hours)s) AND point_id != ''
GROUP BY site_id, point_id
ORDER BY severe DESC, events DESC, latest DESC
LIMIT %(limit)s""",
        {"hours": 24, "limit": 10},
    ),
    NamedQuery(
        "alerts-by-district",
        "How many alerts per district, and how fast were they acknowledged and resolved?",
        """
SELECT district, count() AS alerts, countIf(severity = 'critical') AS critical,
       countIf(status != 'resolved') AS unresolved,
       round(avgIf(dateDiff('millisecond', opened_at, acknowledged_at) / 1000,
                   acknowledged_at IS NOT NULL), 1) AS avg_ack_s,
       round(quantileIf(0.9)(dateDiff('millisecond', opened_at, acknowledged_at) / 1000,
                             acknowledged_at IS NOT NULL), 1) AS p90_ack_s,
       round(avgIf(dateDiff('millisecond', opened_at, resolved_at) / 1000,
                   resolved_at IS NOT NULL), 1) AS avg_resolve_s
FROM {db}.alerts FINAL
WHERE opened_at >= now64(3) - toIntervalDay(%(days)s)
GROUP BY district
ORDER BY alerts DESC, district""",
        {"days": 7},
    ),
    NamedQuery(
        "silent-or-stuck-sensors",
        "Which sensors stopped reporting, or report a flat line (stuck) over the last hour?",
        """
SELECT site_id, source_id, metric, max(ts) AS last_seen,
       dateDiff('second', max(ts), now64(3)) AS silent_s,
       sumIf(count, ts >= now64(3) - toIntervalHour(1)) AS readings_1h,
       round(maxIf(max, ts >= now64(3) - toIntervalHour(1))
             - minIf(min, ts >= now64(3) - toIntervalHour(1)), 6) AS range_1h,
       multiIf(silent_s > %(silent_s)s, 'silent',
               readings_1h >= %(min_readings)s AND range_1h <= %(flat_range)s, 'stuck',
               'ok') AS state
FROM {db}.readings FINAL
WHERE window_s = 1 AND ts >= now64(3) - toIntervalDay(1)
GROUP BY site_id, source_id, metric
HAVING state != 'ok'
ORDER BY state, silent_s DESC""",
        {"silent_s": 300, "min_readings": 60, "flat_range": 0.0},
    ),
    NamedQuery(
        "readings-around-alert",
        "What did the alert's site measure in the minutes before and after it (per minute)?",
        """
WITH (SELECT any(site_id) FROM {db}.alerts FINAL WHERE alert_id = %(alert_id)s) AS site,
     (SELECT min(first_ts) FROM {db}.alerts FINAL WHERE alert_id = %(alert_id)s) AS t0,
     (SELECT max(last_ts) FROM {db}.alerts FINAL WHERE alert_id = %(alert_id)s) AS t1
SELECT source_id, metric, unit, minute, minMerge(vmin) AS min, maxMerge(vmax) AS max,
       round(sumMerge(vsum) / sumMerge(vcount), 3) AS mean, argMaxMerge(vlast) AS last,
       sumMerge(vcount) AS readings
FROM {db}.readings_1m
WHERE site_id = site
  AND minute >= toStartOfMinute(t0) - toIntervalMinute(%(minutes)s)
  AND minute <= t1 + toIntervalMinute(%(minutes)s)
GROUP BY source_id, metric, unit, minute
ORDER BY source_id, minute""",
        {"minutes": 10},
    ),
]

BY_NAME = {q.name: q for q in QUERIES}


def run(client: Any, name: str, database: str, **params: Any) -> tuple[list[str], list[Any]]:
    """Run a named query; returns (column names, rows). Parameters may be given as text."""
    query = BY_NAME[name]
    values = query.bind({k: str(v) for k, v in params.items()})
    result = client.query(query.render(database), parameters=values)
    return list(result.column_names), result.result_rows
