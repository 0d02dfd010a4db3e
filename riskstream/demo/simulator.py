"""Simulated sensor readings for the demo plant (pure and seeded: same run, same readings).

Each sensor follows its metric's normal behaviour with noise; on top, a scripted incident:
a combustible-gas leak in the tank farm (gas-tf-01 past 25 then 50 %LEL, gas-tf-02 past 25),
a reactor temperature excursion, and one malformed and one implausible payload.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from riskstream.config.schema import Sensor

# Normal level and noise per metric; sensors of unknown metrics idle at 40% of their range.
_BASELINE = {"combustible_gas": (3.0, 0.6), "temperature": (172.0, 0.8),
             "pressure": (2400.0, 8.0), "level": (12.5, 0.02)}


@dataclass(frozen=True)
class Message:
    at: float  # seconds since the start of the run
    topic: str
    payload: bytes
    note: str = ""  # why this message is special, for the demo's output


def _bump(t: float, start: float, peak_at: float, end: float) -> float:
    """0 before ``start``, rising to 1 at ``peak_at``, back to 0 at ``end`` (smooth)."""
    if t <= start or t >= end:
        return 0.0
    x = (t - start) / (peak_at - start) if t < peak_at else (end - t) / (end - peak_at)
    return 0.5 - 0.5 * math.cos(math.pi * x)


def _incident(sensor: Sensor, frac: float) -> float:
    """Extra value the scripted incident adds at fraction ``frac`` of the run."""
    if sensor.id == "gas-tf-01":
        return 58.0 * _bump(frac, 0.20, 0.40, 0.70)
    if sensor.id == "gas-tf-02":
        return 29.0 * _bump(frac, 0.28, 0.45, 0.72)
    if sensor.metric == "temperature":
        return 20.0 * _bump(frac, 0.55, 0.68, 0.85)
    if sensor.metric == "pressure":
        return 260.0 * _bump(frac, 0.58, 0.70, 0.86)
    if sensor.metric == "level":  # tank T3 filling towards its high level
        return 1.9 * _bump(frac, 0.70, 0.92, 1.2)
    return 0.0


def readings(sensors: list[Sensor], duration: float, rate: float, seed: int = 7) -> Iterator[Message]:
    """Messages in time order: ``rate`` readings/s per sensor for ``duration`` seconds."""
    rng = random.Random(seed)
    steps = max(1, int(duration * rate))
    special = {int(steps * 0.5): "malformed", int(steps * 0.6): "implausible"}
    for step in range(steps):
        t = step / rate
        frac = step / steps
        for sensor in sensors:
            base, noise = _BASELINE.get(sensor.metric, (0.0, 0.0))
            value = base + rng.gauss(0.0, noise) + _incident(sensor, frac)
            if sensor.valid_range is not None:
                value = min(max(value, sensor.valid_range.min), sensor.valid_range.max)
            body = {"value": round(value, 3), "unit": sensor.unit, "quality": "good"}
            yield Message(t, sensor.topic, json.dumps(body).encode())
        if step in special and sensors:
            target = sensors[0]
            if special[step] == "malformed":
                yield Message(t, target.topic, b'{"value": "n/a", "unit": "%LEL"',
                              "malformed JSON from a faulty transmitter")
            elif target.valid_range is not None:
                bad = {"value": target.valid_range.max * 10, "unit": target.unit}
                yield Message(t, target.topic, json.dumps(bad).encode(),
                              "physically implausible value")
