"""Downsample readings into per-second and per-minute summaries (pure; time is passed in).

Analysts need normal behaviour too, not only alarms: every sensor's readings are summarised
(min/max/mean/last/count) per 1 s and per 60 s window of device time and sent to
``rs.readings``. A window closes when a reading of a later window arrives, or when wall time
has passed its end by ``lateness_s`` (a silent sensor still gets its last window out).
A reading older than its sensor's open window is late: it still goes through detection, is
counted, and is not folded into a summary already sent.

A sensor's open windows can be saved (:meth:`Downsampler.snapshot`) and restored: the edge
keeps them in its outbox with the acknowledgement of the readings they hold, so a crash does
not lose the readings of windows that were still open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from riskstream.config.schema import Sensor
from riskstream.events import ReadingSummary
from riskstream.sensors.readings import Reading

WINDOWS = (1, 60)


@dataclass
class _Window:
    start_ms: int
    min: float
    max: float
    total: float
    last: float
    last_ms: int
    count: int

    def add(self, value: float, ts_ms: int) -> None:
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        self.total += value
        self.count += 1
        if ts_ms >= self.last_ms:
            self.last, self.last_ms = value, ts_ms


class Downsampler:
    def __init__(self, sensors: list[Sensor], lateness_s: float = 2.0) -> None:
        self._sensors = {s.id: s for s in sensors}
        self._open: dict[tuple[str, int], _Window] = {}
        self._lateness_ms = int(lateness_s * 1000)
        self.late = 0

    def add(self, reading: Reading) -> list[ReadingSummary]:
        """Fold one reading in; returns the summaries of windows it closed."""
        ts_ms = int(reading.ts.timestamp() * 1000)
        closed: list[ReadingSummary] = []
        late = False
        for size in WINDOWS:
            start = ts_ms - ts_ms % (size * 1000)
            key = (reading.sensor_id, size)
            current = self._open.get(key)
            if current is not None and start < current.start_ms:
                late = True
                continue
            if current is not None and start > current.start_ms:
                closed.append(self._summary(reading.sensor_id, size, current))
                current = None
            if current is None:
                self._open[key] = _Window(start, reading.value, reading.value, reading.value,
                                          reading.value, ts_ms, 1)
            else:
                current.add(reading.value, ts_ms)
        self.late += late
        return closed

    def open_sensors(self) -> set[str]:
        return {sid for sid, _ in self._open}

    def flush(self, now_ms: int) -> list[ReadingSummary]:
        """Close every window whose end is ``lateness_s`` behind ``now_ms``."""
        closed = []
        for (sensor_id, size), window in list(self._open.items()):
            if window.start_ms + size * 1000 + self._lateness_ms <= now_ms:
                closed.append(self._summary(sensor_id, size, window))
                del self._open[(sensor_id, size)]
        return closed

    def snapshot(self, sensor_id: str) -> str:
        """The sensor's open windows as text ("" when none is open)."""
        # the fields by hand: dataclasses.astuple deep-copies each one, and the edge takes a
        # snapshot per reading (it was two thirds of the edge handler's time)
        windows = {str(size): (w.start_ms, w.min, w.max, w.total, w.last, w.last_ms, w.count)
                   for size in WINDOWS if (w := self._open.get((sensor_id, size))) is not None}
        return json.dumps(windows, separators=(",", ":")) if windows else ""

    def restore(self, sensor_id: str, text: str) -> None:
        """Re-open the windows of a :meth:`snapshot` (ignored for a sensor no longer configured)."""
        if not text or sensor_id not in self._sensors:
            return
        for size, fields in json.loads(text).items():
            self._open[(sensor_id, int(size))] = _Window(*fields)

    def _summary(self, sensor_id: str, size: int, w: _Window) -> ReadingSummary:
        s = self._sensors[sensor_id]
        mean = min(max(w.total / w.count, w.min), w.max)  # float sums may stray a hair
        return ReadingSummary(
            site_id=s.site, source_id=s.id, metric=s.metric, unit=s.unit, point_id=s.point,
            ts=datetime.fromtimestamp(w.start_ms / 1000, tz=UTC), window_s=size,
            min=w.min, max=w.max, mean=mean, last=w.last, count=w.count,
        )
