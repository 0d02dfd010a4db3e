"""An asset's normal history from ClickHouse, as the rows its window model trains on.

The edge scores, per ``cadence_s`` bucket of device time, each channel's latest value; the
training rows are built the same way from the stored per-second summaries (the ``last`` value
of the newest summary in the bucket), so the model learns the rows it will see. Buckets in
which a channel has no summary are left out (counted), as the edge skips such rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from riskstream.config.schema import Asset


@dataclass(frozen=True, slots=True)
class AssetHistory:
    rows: np.ndarray  # [T, channels] in the asset's sensor order
    buckets: int  # buckets with any data
    incomplete: int  # buckets left out: a channel had nothing


def pivot(records: Iterable[tuple[int, str, float]], sensors: list[str]) -> AssetHistory:
    """(bucket, sensor id, value) records -> complete rows in bucket order."""
    index = {sid: i for i, sid in enumerate(sensors)}
    by_bucket: dict[int, list[float | None]] = {}
    for bucket, sid, value in records:
        if sid in index:
            by_bucket.setdefault(int(bucket), [None] * len(sensors))[index[sid]] = float(value)
    complete = [[v for v in row if v is not None] for _, row in sorted(by_bucket.items())
                if all(v is not None for v in row)]
    rows = np.asarray(complete, dtype=np.float64).reshape(len(complete), len(sensors))
    return AssetHistory(rows, len(by_bucket), len(by_bucket) - len(complete))


QUERY = """
SELECT intDiv(toUnixTimestamp64Milli(ts), %(cadence_ms)s) AS bucket, source_id,
       argMax(last, ts) AS value
FROM {db}.readings FINAL
WHERE site_id = %(site)s AND source_id IN %(sensors)s AND window_s = 1
  AND ts >= %(since)s AND ts < %(until)s
GROUP BY bucket, source_id
ORDER BY bucket
"""


def load(client: Any, database: str, asset: Asset, since: datetime, until: datetime) -> AssetHistory:
    """The asset's rows between ``since`` and ``until`` (the period the operator picks)."""
    result = client.query(QUERY.format(db=database), parameters={
        "cadence_ms": max(1, round(asset.cadence_s * 1000)), "site": asset.site,
        "sensors": tuple(asset.sensors), "since": since, "until": until})
    return pivot(((int(b), str(s), float(v)) for b, s, v in result.result_rows), asset.sensors)
