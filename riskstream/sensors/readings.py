"""Parse and validate one sensor payload into a :class:`Reading` (pure, no I/O).

Accepted payloads:

* JSON object: ``{"value": 12.5, "unit": "%LEL", "ts": "2026-11-29T10:00:00.000Z",
  "quality": "good"}`` where only ``value`` is required; ``ts`` may also be epoch ms;
* a bare number as text (``12.5``): value only, arrival time used as event time;
* the compact vendor form many gas transmitters and RTU gateways send, comma-separated text
  ``value,unit,epoch_ms[,quality]`` (quality ``g``/``u``/``b`` or ``0``/``1``/``2``), e.g.
  ``12.5,%LEL,1796000000000,g``; an empty unit or time means the sensor's unit / arrival time.

A reading in another unit of the same quantity is converted to the sensor's unit (``degF`` or
``K`` to ``degC``, ``bar``/``mbar``/``psi``/``MPa``/``Pa`` to ``kPa``, ``mm``/``cm`` to ``m``);
any other unit mismatch is an error, never a silent wrong value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from riskstream.config.schema import Sensor
from riskstream.events import EventError, ImplausibleTime, json_loads, parse_time

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_READING_AGE = timedelta(days=7)
QUALITIES = ("good", "uncertain", "bad")


class PayloadError(ValueError):
    """A reading that cannot be used; ``reason`` names the field and the problem."""

    def __init__(self, reason: str, kind: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # invalid | implausible | unknown_topic | too_large


@dataclass(frozen=True, slots=True)
class Reading:
    sensor_id: str
    value: float
    unit: str
    ts: datetime  # device time when given, else arrival
    received_at: datetime
    quality: str = "good"


# (from, to) -> conversion; the sensor's configured unit is always the target.
UNIT_CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("degF", "degC"): lambda v: (v - 32.0) * 5.0 / 9.0,
    ("K", "degC"): lambda v: v - 273.15,
    ("degC", "degF"): lambda v: v * 9.0 / 5.0 + 32.0,
    ("bar", "kPa"): lambda v: v * 100.0,
    ("mbar", "kPa"): lambda v: v / 10.0,
    ("psi", "kPa"): lambda v: v * 6.894757293168,
    ("MPa", "kPa"): lambda v: v * 1000.0,
    ("Pa", "kPa"): lambda v: v / 1000.0,
    ("kPa", "bar"): lambda v: v / 100.0,
    ("mm", "m"): lambda v: v / 1000.0,
    ("cm", "m"): lambda v: v / 100.0,
}
COMPACT_QUALITY = {"g": "good", "u": "uncertain", "b": "bad", "0": "good", "1": "uncertain", "2": "bad"}


def _compact(text: str) -> dict[str, object]:
    """``value,unit,epoch_ms[,quality]`` -> the JSON form's fields."""
    parts = [p.strip() for p in text.split(",")]
    if not 3 <= len(parts) <= 4:
        raise PayloadError(
            f"compact payload: expected value,unit,epoch_ms[,quality], got {len(parts)} fields"
        )
    try:
        value = float(parts[0])
    except ValueError:
        raise PayloadError(f"compact payload: value {parts[0][:40]!r} is not a number") from None
    data: dict[str, object] = {"value": value}
    if parts[1]:
        data["unit"] = parts[1]
    if parts[2]:
        if not parts[2].isdigit():
            raise PayloadError(f"compact payload: time {parts[2][:40]!r} is not epoch milliseconds")
        data["ts"] = int(parts[2])
    if len(parts) == 4 and parts[3]:
        if parts[3] not in COMPACT_QUALITY:
            raise PayloadError(f"compact payload: quality {parts[3][:10]!r} is not g/u/b or 0/1/2")
        data["quality"] = COMPACT_QUALITY[parts[3]]
    return data


_NON_FINITE = re.compile(r"(?<![\w\"])-?(NaN|Infinity)(?![\w\"])")


def _decode(payload: bytes) -> object:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload is {len(payload)} bytes (limit {MAX_PAYLOAD_BYTES})", "too_large")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"payload is not UTF-8 (byte {exc.start})") from None
    stripped = text.strip()
    if "," in stripped and not stripped.startswith(("{", "[", '"')):
        return _compact(stripped)
    try:
        # orjson where installed: fast, and it refuses nesting deeper than 1024 and numbers
        # beyond a double by itself; the stdlib fallback raises RecursionError/ValueError
        return json_loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        if "infinity" in str(exc):  # orjson: a number beyond a double's range
            raise PayloadError("a number in the payload is beyond a double's range (values "
                               "must be finite numbers)") from None
        if _NON_FINITE.search(stripped):
            raise PayloadError("value: must be a finite number (NaN and Infinity are not "
                               "JSON numbers)") from None
        if stripped.startswith(("{", "[", '"')):
            detail = f"{exc.msg} at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else (
                type(exc).__name__)
            raise PayloadError(f"payload is not valid JSON: {detail}"[:300]) from None
        raise PayloadError(f"payload {stripped[:40]!r} is neither a JSON object, a number nor "
                           "the compact form value,unit,epoch_ms[,quality]") from None


def _value(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise PayloadError(f"value: expected a number, got {type(raw).__name__}")
    try:
        value = float(raw)
    except OverflowError:  # a Python int beyond a double's range
        raise PayloadError("value: must be a finite number (too large)") from None
    if not math.isfinite(value):
        raise PayloadError("value: must be a finite number")
    return value


def parse_reading(payload: bytes, sensor: Sensor, received_at: datetime,
                  max_age: timedelta = MAX_READING_AGE) -> Reading:
    """Validate ``payload`` for ``sensor``; raises :class:`PayloadError` with the reason.

    Anything else escaping from here is a bug; :class:`riskstream.sensors.pipeline.SensorPipeline`
    still turns it into a dead letter."""
    data = _decode(payload)
    if not isinstance(data, dict):
        if isinstance(data, int | float) and not isinstance(data, bool):
            data = {"value": data}
        else:
            raise PayloadError(f"expected a JSON object or a number, got {type(data).__name__}")
    unknown = set(data) - {"value", "unit", "ts", "quality"}
    if unknown:
        raise PayloadError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}")
    if "value" not in data:
        raise PayloadError("value: is required")
    value = _value(data["value"])
    unit = data.get("unit", sensor.unit)
    if unit != sensor.unit:
        convert = UNIT_CONVERSIONS.get((str(unit), sensor.unit))
        if convert is None:
            raise PayloadError(f"unit: expected {sensor.unit!r} for {sensor.id}, got {unit!r}"[:200])
        value = convert(value)
    quality = data.get("quality", "good")
    if quality not in QUALITIES:
        raise PayloadError(f"quality: expected one of {', '.join(QUALITIES)}, got {quality!r}"[:200])
    ts = received_at
    if data.get("ts") is not None:
        try:
            ts = parse_time(data["ts"], "ts")
        except ImplausibleTime as exc:
            raise PayloadError(f"{exc}: a device clock reset, or epoch seconds sent as "
                               "milliseconds?", "implausible") from None
        except EventError as exc:
            raise PayloadError(str(exc)) from None
        if ts - received_at > MAX_CLOCK_SKEW:
            raise PayloadError(f"ts: {ts.isoformat()} is in the future (device clock wrong?)",
                               "implausible")
        if received_at - ts > max_age:
            raise PayloadError(
                f"ts: {ts.isoformat()} is {_age(received_at - ts)} before its arrival (limit "
                f"{_age(max_age)}, edge.max_reading_age_s): a device clock reset, or epoch "
                "seconds sent as milliseconds?", "implausible")
    rng = sensor.valid_range
    if rng is not None and not rng.min <= value <= rng.max:
        raise PayloadError(
            f"value: {value:g} {sensor.unit} outside the plausible range "
            f"[{rng.min:g}, {rng.max:g}] of {sensor.id}",
            "implausible",
        )
    return Reading(sensor.id, value, sensor.unit, ts, received_at, str(quality))


def _age(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / 3600:,.1f} h" if seconds >= 7200 else f"{seconds:,.0f} s"
