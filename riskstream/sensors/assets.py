"""Assets: a multivariate window model over a group of one unit's sensors (pure; time is the
readings' device time).

Rows are assembled per ``cadence_s`` bucket of device time. A bucket closes once a reading of
any of the asset's channels is at least one cadence past its end (channels report with some
jitter); its row holds each channel's latest value before the bucket's end. A channel with no
value within ``max_age_s`` of that end is *missing*: the row is skipped and counted (the model
cannot score a row with a hole, and a made-up value would be scored as if measured); a reading
for a bucket already closed is *late*: counted, not in any row. Each row is scored by the
window model, its threshold filter decides, and a detection that starts is one
``sensor.anomaly`` event of the asset with each channel's contribution: how much of the
window's reconstruction error goes away when that channel is replaced by its training mean.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.config.schema import ASSET_METRIC, Asset, Sensor
from riskstream.detectors import Context, build, plugin_of
from riskstream.events import Event
from riskstream.models.thresholding import ThresholdFilter
from riskstream.models.window_model import WindowModelDetector
from riskstream.sensors.readings import Reading

MAX_GAP_ROWS = 1000


class AssetError(ValueError):
    """An asset whose model does not fit its configuration."""


@dataclass(slots=True)
class AssetCounts:
    rows: int = 0
    missing: int = 0  # rows skipped: a channel had no recent value
    late: int = 0  # readings for a bucket already closed
    missing_by_channel: dict[str, int] = field(default_factory=dict)


class AssetStage:
    """One asset: assembles its rows, scores them, returns the events that start."""

    def __init__(self, asset: Asset, district: str, detector: WindowModelDetector) -> None:
        if detector.n_features != len(asset.sensors):
            raise AssetError(f"asset {asset.id}: model {detector.name} takes {detector.n_features} "
                             f"features, the asset lists {len(asset.sensors)} sensors")
        self.asset, self.district, self.detector = asset, district, detector
        self.flt = ThresholdFilter(asset.detector.threshold)
        self.plugin = plugin_of(asset.detector)
        self.counts = AssetCounts()
        # per channel its recent readings (device ts, value), oldest first, pruned at each row
        self._recent: dict[str, deque[tuple[float, float]]] = {
            sid: deque(maxlen=64) for sid in asset.sensors}
        self._bucket: int | None = None  # the oldest bucket not closed yet
        self._newest = -math.inf

    def observe(self, sensor_id: str, t: float, value: float) -> list[Event]:
        cadence = self.asset.cadence_s
        bucket = math.floor(t / cadence)
        if self._bucket is not None and bucket < self._bucket:
            self.counts.late += 1
            return []
        if self._bucket is None:
            self._bucket = bucket
        recent = self._recent[sensor_id]
        if recent and t < recent[-1][0]:  # out of order within the open buckets: keep sorted
            recent.append((t, value))
            self._recent[sensor_id] = deque(sorted(recent), maxlen=recent.maxlen)
        else:
            recent.append((t, value))
        self._newest = max(self._newest, t)
        gap = math.floor(self._newest / cadence) - 2 - self._bucket
        if gap > MAX_GAP_ROWS:  # a long silence or a clock jump: those rows had no data
            self.counts.missing += gap
            self._bucket += gap
        events: list[Event] = []
        while self._newest >= (self._bucket + 2) * cadence:  # one cadence of grace for jitter
            events += self._close((self._bucket + 1) * cadence)
            self._bucket += 1
        return events

    def _value_before(self, sensor_id: str, end: float) -> float | None:
        """The channel's newest value before ``end`` and no older than ``max_age``."""
        recent = self._recent[sensor_id]
        while len(recent) > 1 and recent[1][0] < end - self.asset.max_age:
            recent.popleft()  # older than any row still to come can use
        for t, value in reversed(recent):
            if t < end:
                return value if end - t <= self.asset.max_age else None
        return None

    def _close(self, end: float) -> list[Event]:
        row = []
        for sid in self.asset.sensors:
            value = self._value_before(sid, end)
            if value is None:
                self.counts.missing += 1
                self.counts.missing_by_channel[sid] = self.counts.missing_by_channel.get(sid, 0) + 1
                return []
            row.append(value)
        self.counts.rows += 1
        x = np.asarray(row, dtype=np.float32)
        score, fired = self.flt.step(self.detector, x)
        return [self._event(end, score, row)] if fired else []

    def _event(self, end: float, score: float, row: list[float]) -> Event:
        a = self.asset
        contributions = self.detector.contributions()
        return Event(
            kind=self.plugin.event,
            site_id=a.site,
            district=self.district,
            source_id=a.id,
            point_id=a.point,
            ts=datetime.fromtimestamp(end, UTC),
            score=round(score, 4),
            severity=self.plugin.severity,
            value=None,
            unit=None,
            model=str(self.detector.name),
            attrs={
                "metric": ASSET_METRIC,
                "asset": a.id,
                "threshold": a.detector.threshold.threshold,
                "channels": {sid: {"value": round(v, 6), "contribution": round(c, 4)}
                             for sid, v, c in zip(a.sensors, row, contributions, strict=True)},
                "rows_skipped_missing": self.counts.missing,
            },
        )


class AssetStages:
    """Every configured asset, fed with the readings of its sensors."""

    def __init__(self, assets: list[Asset], sensors: list[Sensor], districts: dict[str, str],
                 models_root: Path | None = None) -> None:
        self.stages: dict[str, AssetStage] = {}
        self._by_sensor: dict[str, list[AssetStage]] = {}
        for asset in assets:
            detector = build(asset.detector, Context(models_root=models_root))
            stage = AssetStage(asset, districts.get(asset.site, ""), detector)
            self.stages[asset.id] = stage
            for sid in asset.sensors:
                self._by_sensor.setdefault(sid, []).append(stage)

    def observe(self, reading: Reading) -> list[Event]:
        events: list[Event] = []
        for stage in self._by_sensor.get(reading.sensor_id, ()):
            events += stage.observe(reading.sensor_id, reading.ts.timestamp(), reading.value)
        return events

    def counts(self) -> dict[str, Any]:
        return {aid: s.counts for aid, s in self.stages.items()}
