"""From one MQTT message to events or a dead letter (pure: the clock and the input are given).

The edge agent is a thin shell around :class:`SensorPipeline`: it hands over the topic, the
payload bytes and the arrival time, and publishes what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from riskstream.config.schema import Config, Sensor
from riskstream.deadletter import DeadLetter
from riskstream.events import Event, Severity
from riskstream.sensors.assets import AssetStages
from riskstream.sensors.chain import DetectorChain
from riskstream.sensors.readings import PayloadError, Reading, parse_reading
from riskstream.sensors.thresholds import ALARM, LEVEL_NAMES, NORMAL, WARNING, limit_for, next_level

THRESHOLD_MODEL = "static-threshold@1"
_SEVERITY = {NORMAL: Severity.INFO, WARNING: Severity.WARNING, ALARM: Severity.CRITICAL}
_SCORE = {NORMAL: 0.0, WARNING: 0.5, ALARM: 1.0}


@dataclass(slots=True)
class Outcome:
    """What one message produced: a reading and its events, or a dead letter."""

    reading: Reading | None = None
    events: list[Event] = field(default_factory=list)
    dead_letter: DeadLetter | None = None


class SensorPipeline:
    """Per-sensor validation and threshold state for every sensor in the config."""

    def __init__(self, cfg: Config) -> None:
        self._by_topic: dict[str, Sensor] = {s.topic: s for s in cfg.sensors}
        self._district = {site.id: site.district for site in cfg.sites}
        self._levels: dict[str, int] = {}
        self._max_age = timedelta(seconds=cfg.edge.max_reading_age_s)
        self.chain = DetectorChain(cfg.sensors, self._district)
        models = Path(cfg.edge.models_dir) if cfg.edge.models_dir else None
        self.assets = AssetStages(cfg.assets, cfg.sensors, self._district, models)

    @property
    def topics(self) -> list[str]:
        return sorted(self._by_topic)

    def levels(self) -> dict[str, int]:
        """Alarm level per sensor, to persist across restarts."""
        return dict(self._levels)

    def level(self, sensor_id: str) -> int:
        return self._levels.get(sensor_id, NORMAL)

    def restore_levels(self, levels: dict[str, int]) -> None:
        self._levels.update(levels)

    def process(self, topic: str, payload: bytes, received_at: datetime) -> Outcome:
        sensor = self._by_topic.get(topic)
        if sensor is None:
            return Outcome(dead_letter=_dead("edge.parse", "unknown_topic", topic, payload,
                                             f"topic: no sensor is configured for {topic[:200]!r}"))
        try:
            reading = parse_reading(payload, sensor, received_at, self._max_age)
        except PayloadError as exc:
            return Outcome(dead_letter=_dead("edge.parse", exc.kind, topic, payload,
                                             f"{sensor.id}: {exc.reason}", sensor.site))
        except Exception as exc:  # a parser bug: this payload is lost to detection, not the agent
            reason = f"{sensor.id}: internal error parsing the payload: {exc!r}"[:500]
            return Outcome(dead_letter=_dead("edge.parse", "crash", topic, payload, reason,
                                             sensor.site))
        try:
            events = self._threshold_events(sensor, reading)
            if reading.quality != "bad":
                events += self.chain.observe(reading)
                events += self.assets.observe(reading)
        except Exception as exc:  # a detector bug costs this reading's detection, not the agent
            # The reading itself is valid and is still summarised; the payload goes to the DLQ.
            reason = f"{sensor.id}: internal error in detection: {exc!r}"[:500]
            return Outcome(reading=reading, dead_letter=_dead("edge.detect", "crash", topic,
                                                              payload, reason, sensor.site))
        return Outcome(reading=reading, events=events)

    def silence_events(self, now: datetime) -> list[Event]:
        """Sensors configured with a silence detector that have gone quiet."""
        return self.chain.check_silence(now)

    def _threshold_events(self, sensor: Sensor, reading: Reading) -> list[Event]:
        th = sensor.thresholds
        if th is None or reading.quality == "bad":
            return []
        before = self._levels.get(sensor.id, NORMAL)
        after = next_level(th, before, reading.value)
        self._levels[sensor.id] = after
        if after == before:
            return []
        limit = limit_for(th, max(before, after) if after < before else after)
        state = "raised" if after > before else ("cleared" if after == NORMAL else "lowered")
        return [
            Event(
                kind="sensor.threshold",
                site_id=sensor.site,
                district=self._district.get(sensor.site, ""),
                source_id=sensor.id,
                point_id=sensor.point,
                ts=reading.ts,
                detected_at=reading.received_at,
                score=_SCORE[after],
                severity=_SEVERITY[after],
                value=reading.value,
                unit=reading.unit,
                model=THRESHOLD_MODEL,
                attrs={
                    "metric": sensor.metric,
                    "state": state,
                    "level": LEVEL_NAMES[after],
                    "previous_level": LEVEL_NAMES[before],
                    "threshold": limit,
                    "direction": th.direction.value,
                    "deadband": th.deadband,
                    "quality": reading.quality,
                },
            )
        ]


def _dead(stage: str, error_type: str, topic: str, payload: bytes, reason: str,
          site_id: str | None = None) -> DeadLetter:
    return DeadLetter(stage=stage, reason=reason, source=f"mqtt:{topic[:200]}", payload=payload,
                      error_type=error_type, site_id=site_id)
