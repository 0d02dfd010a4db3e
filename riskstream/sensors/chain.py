"""The per-point detector chain configured on each sensor (pure; time comes with the readings).

Each detector scores the reading, its own threshold filter decides, and a detection that
*starts* becomes one event (``sensor.rate``, ``sensor.stuck``, ``sensor.anomaly``); silence is
checked on the agent's timer (``sensor.offline``). Readings must reach order-sensitive
detectors in device-time order: a reading older than the newest one seen for its sensor is
*late*; it is still stored and summarised, but skipped here and counted (``late``), because a
rate or a sub-sequence computed backwards in time would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from riskstream.config.schema import Sensor
from riskstream.detectors import Context, Plugin, build, plugin_of
from riskstream.events import Event
from riskstream.models.sensor_rules import Sample
from riskstream.models.thresholding import ThresholdFilter
from riskstream.sensors.readings import Reading


@dataclass(slots=True)
class _Link:
    spec: Any
    plugin: Plugin
    detector: Any
    flt: ThresholdFilter


class DetectorChain:
    def __init__(self, sensors: list[Sensor], districts: dict[str, str]) -> None:
        self._sensors = {s.id: s for s in sensors}
        self._districts = districts
        self._links: dict[str, list[_Link]] = {
            s.id: [
                _Link(spec, plugin_of(spec), build(spec, Context()), ThresholdFilter(spec.threshold))
                for spec in s.detectors
            ]
            for s in sensors
            if s.detectors
        }
        self._last_ts: dict[str, float] = {}
        self.late = 0

    def observe(self, reading: Reading) -> list[Event]:
        links = self._links.get(reading.sensor_id)
        if not links:
            return []
        t = reading.ts.timestamp()
        for link in links:
            if link.plugin.feeds == "clock":
                link.detector.seen(t)
        if t < self._last_ts.get(reading.sensor_id, float("-inf")):
            self.late += 1
            return []
        self._last_ts[reading.sensor_id] = t
        events = []
        for link in links:
            if link.plugin.feeds == "clock":
                continue
            x = reading.value if link.plugin.feeds == "value" else Sample(t, reading.value)
            score, fired = link.flt.step(link.detector, x)
            if fired:
                events.append(self._event(link, reading.sensor_id, reading.ts, score, reading.value))
        return events

    def check_silence(self, now: datetime) -> list[Event]:
        events = []
        for sensor_id, links in self._links.items():
            for link in links:
                if link.plugin.feeds == "clock":
                    score = link.detector.score(now.timestamp())
                    if link.flt.update(score):
                        events.append(self._event(link, sensor_id, now, score, None))
        return events

    def _event(self, link: _Link, sensor_id: str, ts: datetime, score: float, value: float | None) -> Event:
        sensor = self._sensors[sensor_id]
        return Event(
            kind=link.plugin.event,
            site_id=sensor.site,
            district=self._districts.get(sensor.site, ""),
            source_id=sensor.id,
            point_id=sensor.point,
            ts=ts.astimezone(UTC),
            score=round(score, 4),
            severity=link.plugin.severity,
            value=value,
            unit=sensor.unit if value is not None else None,
            model=str(link.detector.name),
            attrs={
                "metric": sensor.metric,
                "detector": link.spec.model_dump(mode="json", exclude={"threshold"}),
                "threshold": link.spec.threshold.threshold,
            },
        )
