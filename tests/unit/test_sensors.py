"""Sensor payload parsing, two-level thresholds with hysteresis, and the reading pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstream.config import parse
from riskstream.config.schema import AlarmThresholds, Direction, Sensor
from riskstream.events import Severity
from riskstream.sensors.pipeline import SensorPipeline
from riskstream.sensors.readings import PayloadError, parse_reading
from riskstream.sensors.thresholds import ALARM, NORMAL, WARNING, next_level
from tests.unit.test_config import MINIMAL

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
GAS = Sensor(id="gas-1", site="plant-a", point="tank-farm", metric="combustible_gas",
             unit="%LEL", topic="plant-a/gas-1",
             thresholds=AlarmThresholds(warning=25, alarm=50, deadband=2),
             valid_range={"min": 0, "max": 100})  # type: ignore[arg-type]


def test_json_object_with_device_time() -> None:
    r = parse_reading(b'{"value": 12.5, "unit": "%LEL", "ts": "2026-11-29T09:59:58.5Z",'
                      b' "quality": "uncertain"}', GAS, NOW)
    assert (r.value, r.unit, r.quality) == (12.5, "%LEL", "uncertain")
    assert r.ts == NOW - timedelta(seconds=1.5)
    assert r.received_at == NOW


def test_bare_number_and_epoch_ms() -> None:
    assert parse_reading(b"7", GAS, NOW).ts == NOW
    ms = int(NOW.timestamp() * 1000) - 1000
    reading = parse_reading(json.dumps({"value": 1, "ts": ms}).encode(), GAS, NOW)
    assert reading.ts == NOW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("payload", "words", "kind"),
    [
        (b"\xff\x00", "not UTF-8", "invalid"),
        (b"{", "not valid JSON", "invalid"),
        (b"[" * 7000 + b"]" * 7000, "not valid JSON", "invalid"),  # RecursionError before
        (b'{"value": ' + b"[" * 2000 + b"]" * 2000 + b"}", "not valid JSON", "invalid"),
        (b'{"value": ' + b"1" * 400 + b"}", "finite", "invalid"),  # OverflowError before
        (b'{"value": ' + b"1" * 5000 + b"}", "finite", "invalid"),  # ValueError before
        (b"1" * 400, "finite", "invalid"),
        (b"1" * 5000, "finite", "invalid"),
        (b'{"value": 1, "ts": ' + b"9" * 400 + b"}", "finite", "invalid"),
        (b"27 %LEL", "neither a JSON object, a number nor the compact form", "invalid"),
        (b'{"value": 1, "ts": "1850-01-01T00:00:00Z"}', "outside 2000-01-01", "implausible"),
        (b'{"value": 1, "ts": "0001-01-01T00:00:00Z"}', "outside 2000-01-01", "implausible"),
        (b'{"value": 1, "ts": 1764410000000}', "before its arrival", "implausible"),
        (b'{"value": 1, "ts": 1764410000}', "epoch seconds sent as milliseconds", "implausible"),
        (b'"ten"', "expected a JSON object or a number", "invalid"),
        (b'{"unit": "%LEL"}', "value: is required", "invalid"),
        (b'{"value": "12"}', "value: expected a number, got str", "invalid"),
        (b'{"value": true}', "value: expected a number, got bool", "invalid"),
        (b'{"value": NaN}', "value: must be a finite number", "invalid"),
        (b'{"value": 1, "unit": "ppm"}', "unit: expected '%LEL'", "invalid"),
        (b'{"value": 1, "quality": "perfect"}', "quality: expected one of", "invalid"),
        (b'{"value": 1, "ts": "soon"}', "ts: not an ISO-8601 time", "invalid"),
        (b'{"value": 1, "ts": "2026-11-29T10:00:00"}', "ts: datetime must be timezone-aware",
         "invalid"),
        (b'{"value": 1, "ts": "2026-11-29T11:00:00Z"}', "in the future", "implausible"),
        (b'{"value": 1, "extra": 2}', "unknown field(s): extra", "invalid"),
        (b'{"value": 1, "ts": -62135596800001}', "ts: epoch milliseconds out of range", "invalid"),
        (b'{"value": 101}', "outside the plausible range [0, 100]", "implausible"),
        (b'{"value": -1}', "outside the plausible range", "implausible"),
        (b"1" * 20000, "limit", "too_large"),
    ],
)
def test_bad_payloads_are_rejected_with_reason(payload: bytes, words: str, kind: str) -> None:
    with pytest.raises(PayloadError) as err:
        parse_reading(payload, GAS, NOW)
    assert words in err.value.reason
    assert err.value.kind == kind


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                 lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                 max_leaves=10).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"value": st.floats(allow_nan=True, allow_infinity=True)},
                          optional={"ts": st.one_of(st.text(max_size=30), st.integers()),
                                    "unit": st.text(max_size=5)}).map(lambda d: json.dumps(d).encode()),
))
def test_parser_only_ever_raises_payload_error(payload: bytes) -> None:
    try:
        reading = parse_reading(payload, GAS, NOW)
    except PayloadError as exc:
        assert exc.reason
        return
    assert 0 <= reading.value <= 100
    assert reading.ts.tzinfo is not None


def test_levels_rise_at_once_and_clear_past_deadband() -> None:
    th = AlarmThresholds(warning=25, alarm=50, deadband=2)
    seq = [(10, NORMAL), (25, WARNING), (24, WARNING), (22.9, NORMAL), (50, ALARM), (48.5, ALARM),
           (47.9, WARNING), (60, ALARM), (0, NORMAL)]
    level = NORMAL
    for value, expected in seq:
        level = next_level(th, level, value)
        assert level == expected, value


def test_low_direction_thresholds() -> None:
    th = AlarmThresholds(direction=Direction.LOW, warning=2.0, alarm=1.0, deadband=0.1)
    assert next_level(th, NORMAL, 1.5) == WARNING
    assert next_level(th, WARNING, 0.9) == ALARM
    assert next_level(th, ALARM, 1.05) == ALARM
    assert next_level(th, ALARM, 1.2) == WARNING
    assert next_level(th, WARNING, 2.2) == NORMAL


def test_pipeline_emits_one_event_per_level_change() -> None:
    pipe = SensorPipeline(parse(MINIMAL))
    values = [5, 10, 30, 31, 55, 57, 40, 10, 9]
    events = []
    for i, v in enumerate(values):
        out = pipe.process("plant-a/gas-1", json.dumps({"value": v}).encode(),
                           NOW + timedelta(seconds=i))
        assert out.dead_letter is None and out.reading is not None
        events += out.events
    assert [(e.value, e.severity, e.attrs["state"]) for e in events] == [
        (30, Severity.WARNING, "raised"), (55, Severity.CRITICAL, "raised"),
        (40, Severity.WARNING, "lowered"), (10, Severity.INFO, "cleared"),
    ]
    first = events[0]
    assert (first.kind, first.site_id, first.district, first.source_id, first.point_id) == (
        "sensor.threshold", "plant-a", "north", "gas-1", "tank-farm")
    assert first.attrs["threshold"] == 25 and first.attrs["metric"] == "combustible_gas"
    assert first.ts == NOW + timedelta(seconds=2)
    assert len({e.event_id for e in events}) == 4


def test_pipeline_dead_letters_carry_reason_and_payload() -> None:
    pipe = SensorPipeline(parse(MINIMAL))
    out = pipe.process("plant-a/unknown", b"1", NOW)
    assert out.dead_letter is not None and out.dead_letter.error_type == "unknown_topic"
    out = pipe.process("plant-a/gas-1", b'{"value": "x"}', NOW)
    dl = out.dead_letter
    assert dl is not None and not out.events
    record = json.loads(dl.to_json())
    assert record["reason"] == "gas-1: value: expected a number, got str"
    assert record["site_id"] == "plant-a" and record["stage"] == "edge.parse"
    import base64

    assert base64.b64decode(record["payload_b64"]) == b'{"value": "x"}'


def test_bad_quality_readings_do_not_move_alarm_levels() -> None:
    pipe = SensorPipeline(parse(MINIMAL))
    out = pipe.process("plant-a/gas-1", b'{"value": 80, "quality": "bad"}', NOW)
    assert out.reading is not None and out.events == []
