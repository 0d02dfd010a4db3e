"""Sensor path additions: compact vendor payloads, unit normalisation, wildcard subscriptions,
and the per-point detector chain (rate, stuck, silence, learned anomaly, late readings)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstream.config import parse
from riskstream.config.loader import ConfigError
from riskstream.config.mqtt_topics import matches, valid_filter
from riskstream.config.schema import Sensor
from riskstream.sensors.pipeline import SensorPipeline
from riskstream.sensors.readings import PayloadError, parse_reading
from tests.unit.test_config import MINIMAL

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)
TEMP = Sensor(
    id="t-1",
    site="plant-a",
    point="tank-farm",
    metric="temperature",
    unit="degC",
    topic="p/t-1",
    valid_range={"min": -40, "max": 150},
)  # type: ignore[arg-type]


def test_compact_vendor_payload() -> None:
    r = parse_reading(f"21.5,degC,{MS - 2000},u".encode(), TEMP, NOW)
    assert (r.value, r.quality, r.ts) == (21.5, "uncertain", NOW - timedelta(seconds=2))
    r = parse_reading(b"21.5,,,", TEMP, NOW)  # empty fields: the sensor's unit, arrival time
    assert (r.value, r.unit, r.ts, r.quality) == (21.5, "degC", NOW, "good")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"abc,degC,1", "not a number"),
        (b"1,degC,yesterday", "epoch milliseconds"),
        (b"1,degC,1,x", "quality"),
        (b"1,2,3,4,5", "expected value,unit,epoch_ms"),
    ],
)
def test_bad_compact_payloads(payload: bytes, words: str) -> None:
    with pytest.raises(PayloadError, match=words):
        parse_reading(payload, TEMP, NOW)


def test_units_are_normalised_to_the_sensor_unit() -> None:
    assert parse_reading(b'{"value": 212, "unit": "degF"}', TEMP, NOW).value == pytest.approx(100.0)
    assert parse_reading(b'{"value": 300, "unit": "K"}', TEMP, NOW).value == pytest.approx(26.85)
    assert parse_reading(f"68,degF,{MS}".encode(), TEMP, NOW).value == pytest.approx(20.0)
    with pytest.raises(PayloadError, match="unit"):
        parse_reading(b'{"value": 1, "unit": "psi"}', TEMP, NOW)  # a pressure for a thermometer


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="0123456789.-e,gub%LEdeCF K", max_size=12), min_size=1, max_size=6).map(
        lambda parts: ",".join(parts).encode()
    )
)
def test_compact_parser_only_ever_raises_payload_error(payload: bytes) -> None:
    try:
        r = parse_reading(payload, TEMP, NOW)
    except PayloadError as exc:
        assert exc.reason
        return
    assert math.isfinite(r.value) and -40 <= r.value <= 150


def test_topic_filters() -> None:
    assert matches("plant/+/gas", "plant/t1/gas") and not matches("plant/+/gas", "plant/t1/x/gas")
    assert matches("plant/#", "plant/a/b/c") and matches("#", "x")
    assert not matches("plant/a", "plant/a/b")
    assert valid_filter("a/#/b") and valid_filter("a/b+") and valid_filter("a/+/#") is None


def test_sensor_not_covered_by_subscriptions_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not covered"):
        parse(MINIMAL + "mqtt:\n  subscriptions: ['nothing/+']\n")


CHAIN = """sites:
  - {id: plant-a, name: A, district: d1, kind: chemical_plant, risk_points: [{id: tank-farm, name: T}]}
sensors:
  - id: p-1
    site: plant-a
    point: tank-farm
    metric: pressure
    unit: kPa
    topic: p/p-1
    detectors:
      - {type: rate, max_per_s: 5}
      - {type: stuck, window_s: 30, min_change: 0.01}
      - {type: silence, timeout_s: 60}
      - {type: knn_likelihood}
"""


def _feed(pipe: SensorPipeline, values: list[float], start: datetime, step_s: float = 1.0) -> list[str]:
    kinds = []
    for i, v in enumerate(values):
        ts = start + timedelta(seconds=i * step_s)
        out = pipe.process(
            "p/p-1",
            json.dumps({"value": v, "ts": int(ts.timestamp() * 1000)}).encode(),
            ts + timedelta(milliseconds=5),
        )
        assert out.dead_letter is None
        kinds += [e.kind for e in out.events]
    return kinds


def test_chain_rate_stuck_and_learned_anomaly() -> None:
    pipe = SensorPipeline(parse(CHAIN))
    normal = [100 + 2 * math.sin(i / 3) for i in range(400)]
    assert _feed(pipe, normal, NOW) == []
    # A burst of erratic swings: too fast for the rate limit, and a shape never seen before.
    erratic = [100 + 15 * math.sin(2.5 * i) for i in range(20)]
    kinds = _feed(pipe, erratic, NOW + timedelta(seconds=400))
    assert kinds.count("sensor.rate") >= 1 and kinds.count("sensor.anomaly") == 1
    assert _feed(pipe, [100.0] * 40, NOW + timedelta(seconds=420)).count("sensor.stuck") == 1


def test_late_readings_skip_the_chain_and_are_counted() -> None:
    pipe = SensorPipeline(parse(CHAIN))
    _feed(pipe, [100.0, 100.5], NOW)
    late = pipe.process("p/p-1", json.dumps({"value": 500.0, "ts": MS - 60_000}).encode(), NOW)
    assert late.reading is not None and late.events == [] and pipe.chain.late == 1


def test_silence_becomes_one_offline_event() -> None:
    pipe = SensorPipeline(parse(CHAIN))
    _feed(pipe, [100.0], NOW)
    assert pipe.silence_events(NOW + timedelta(seconds=30)) == []
    offline = pipe.silence_events(NOW + timedelta(seconds=61))
    assert [e.kind for e in offline] == ["sensor.offline"] and offline[0].severity.value == "major"
    assert pipe.silence_events(NOW + timedelta(seconds=120)) == []  # one event per silence


def test_a_detector_crash_is_a_dead_letter_and_the_reading_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = SensorPipeline(parse(CHAIN))

    def broken(_reading: object) -> list[object]:
        raise ZeroDivisionError("bug in a detector")

    monkeypatch.setattr(pipe.chain, "observe", broken)
    out = pipe.process("p/p-1", b'{"value": 101.5}', NOW)
    assert out.reading is not None and out.reading.value == 101.5 and out.events == []
    dl = out.dead_letter
    assert dl is not None and dl.stage == "edge.detect" and dl.error_type == "crash"
    assert "ZeroDivisionError" in dl.reason and dl.payload == b'{"value": 101.5}'
    assert pipe.process("p/p-1", b'{"value": 101.6}', NOW).dead_letter is not None  # and it keeps going


def test_the_chain_never_learns_what_it_flags_right_away_and_anomalies_are_warnings() -> None:
    """Flagged readings wait in quarantine instead of joining the memory of normal: a
    sustained new pattern stays flagged (learning it at once unflagged it within ~50 readings)."""
    from riskstream.detectors import KnnLikelihoodSpec

    pipe = SensorPipeline(parse(CHAIN))
    (link,) = [lk for lk in pipe.chain._links["p-1"] if isinstance(lk.spec, KnnLikelihoodSpec)]
    _feed(pipe, [100 + 2 * math.sin(i / 3) for i in range(400)], NOW)
    flagged, events = 0, []
    for i in range(100):
        at = NOW + timedelta(seconds=400 + i)
        out = pipe.process("p/p-1", json.dumps({"value": 100 + 15 * math.sin(2.5 * i),
                                                "ts": int(at.timestamp() * 1000)}).encode(), at)
        events += [e for e in out.events if e.kind == "sensor.anomaly"]
        flagged += link.flt._active
    assert flagged >= 80, flagged
    assert events and all(e.severity.value == "warning" for e in events)
