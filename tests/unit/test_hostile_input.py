"""Hostile input: every payload parses, or becomes an error with a reason; nothing escapes.

Property-based (hypothesis) over the sensor payload path and every decoder of a Kafka record.
The strategies include what crashed the edge before: nesting thousands deep, integers of
hundreds or thousands of digits (as JSON values, bare, and as timestamps), and times of 1850
or 1969.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskstream.config.schema import Config
from riskstream.events import (
    Alert,
    AlertAction,
    EventError,
    Heartbeat,
    ReadingSummary,
    decode_event_record,
)
from riskstream.sensors.pipeline import SensorPipeline
from riskstream.testing import make_event

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CFG = Config.model_validate({
    "sites": [{"id": "plant-a", "name": "A", "district": "d", "kind": "chemical_plant",
               "risk_points": [{"id": "tank-farm", "name": "Tank farm"}]}],
    "sensors": [{"id": "gas-1", "site": "plant-a", "point": "tank-farm", "metric": "combustible_gas",
                 "unit": "%LEL", "topic": "plant-a/gas-1",
                 "thresholds": {"warning": 25, "alarm": 50},
                 "valid_range": {"min": 0, "max": 100},
                 "detectors": [{"type": "rate", "max_per_s": 5},
                               {"type": "stuck", "window_s": 60, "min_change": 0.01},
                               {"type": "knn_likelihood"}]}],
})

# JSON text (not Python values: json.dumps itself refuses ints beyond 4,300 digits)
huge_ints = st.builds(lambda sign, n, d: sign + d * n, st.sampled_from(["", "-"]),
                      st.integers(min_value=19, max_value=6000), st.sampled_from("19"))
scalars = st.one_of(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
              st.integers(), st.text(max_size=30)).map(json.dumps),
    huge_ints)
json_values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=4).map(lambda v: "[" + ",".join(v) + "]")
    | st.dictionaries(st.text(max_size=8).map(json.dumps), c, max_size=4).map(
        lambda d: "{" + ",".join(f"{k}:{v}" for k, v in d.items()) + "}"),
    max_leaves=12)


def deep(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


times = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: json.dumps(d.isoformat())),
    huge_ints, st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
    st.integers(min_value=-(10**15), max_value=10**16).map(str),
    st.sampled_from(["1850-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                     "1899-12-31T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-29T10:00:00"])
    .map(json.dumps),
)


def obj(fields: dict[str, str]) -> bytes:
    """A JSON object from already-encoded values."""
    return ("{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in fields.items()) + "}").encode()


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(str.encode),
    st.integers(min_value=1, max_value=8000).map(lambda d: deep(d).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda d: f'{{"value": {deep(d)}}}'.encode()),
    st.integers(min_value=1, max_value=6000).map(lambda n: ("9" * n).encode()),
    st.integers(min_value=1, max_value=6000).map(lambda n: f'{{"value": {"1" * n}}}'.encode()),
    st.fixed_dictionaries({"value": scalars},
                          optional={"ts": times, "unit": st.text(max_size=6).map(json.dumps),
                                    "quality": scalars}).map(obj),
    st.tuples(st.text(max_size=12), st.text(max_size=6), st.text(max_size=12))
    .map(lambda t: ",".join(t).encode()),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_any_payload_is_a_reading_or_a_dead_letter_with_a_reason(payload: bytes) -> None:
    pipeline = SensorPipeline(CFG)
    outcome = pipeline.process("plant-a/gas-1", payload, NOW)  # never raises
    if outcome.dead_letter is not None:
        assert outcome.dead_letter.reason and outcome.dead_letter.stage.startswith("edge.")
        assert outcome.dead_letter.error_type != "crash", outcome.dead_letter.reason  # no bug
    else:
        assert outcome.reading is not None and 0 <= outcome.reading.value <= 100


def test_the_reported_crashers_are_dead_letters() -> None:
    pipeline = SensorPipeline(CFG)
    crashers = [deep(7000), '{"value": ' + deep(2000) + "}", '{"value": ' + "1" * 400 + "}",
                '{"value": ' + "1" * 5000 + "}", "1" * 400, "1" * 5000,
                '{"value": 1, "ts": ' + "4" * 400 + "}",
                '{"value": 1, "ts": "1850-06-01T00:00:00Z"}', '{"value": 1, "ts": -1000}']
    for payload in crashers:
        outcome = pipeline.process("plant-a/gas-1", payload.encode(), NOW)
        assert outcome.dead_letter is not None, payload[:40]
        assert outcome.dead_letter.error_type in ("invalid", "implausible", "too_large")


def _event_dict() -> dict[str, Any]:
    return make_event().to_dict()


def _alert_dict() -> dict[str, Any]:
    return {"alert_id": "AL1", "rule": "r", "site_id": "s", "district": "d",
            "severity": "major", "status": "open", "first_ts": "2026-11-29T10:00:00.000Z",
            "last_ts": "2026-11-29T10:00:01.000Z", "updated_at": "2026-11-29T10:00:01.000Z",
            "revision": 1, "event_ids": ["e1"], "explanation": "why", "attrs": {}, "schema": 1}


def _action_dict() -> dict[str, Any]:
    return {"alert_id": "AL1", "site_id": "s", "action": "acknowledge", "by": "op",
            "comment": "", "at": "2026-11-29T10:00:00.000Z", "action_id": "A1", "schema": 1}


def _beat_dict() -> dict[str, Any]:
    return {"site_id": "s", "source_id": "d", "ts": "2026-11-29T10:00:00.000Z", "attrs": {},
            "schema": 1}


def _summary_dict() -> dict[str, Any]:
    return {"site_id": "s", "source_id": "d", "metric": "m", "unit": "u",
            "ts": "2026-11-29T10:00:00.000Z", "window_s": 1, "min": 1, "max": 2, "mean": 1.5,
            "last": 2, "count": 2, "point_id": "", "schema": 1}


DECODERS: list[tuple[str, Callable[[bytes], Any], Callable[[], dict[str, Any]]]] = [
    ("event record", decode_event_record, _event_dict),
    ("alert", Alert.from_json, _alert_dict),
    ("action", AlertAction.from_json, _action_dict),
    ("heartbeat", Heartbeat.from_json, _beat_dict),
    ("reading summary", ReadingSummary.from_json, _summary_dict),
]


def _mutated(base: Callable[[], dict[str, Any]]) -> st.SearchStrategy[bytes]:
    fields = list(base())
    return st.dictionaries(st.sampled_from(fields), json_values | times, max_size=5).map(
        lambda changes: obj({**{k: json.dumps(v) for k, v in base().items()}, **changes}))


@pytest.mark.parametrize(("name", "decode", "base"), DECODERS, ids=[d[0] for d in DECODERS])
def test_every_decoder_gives_a_value_or_an_event_error(
    name: str, decode: Callable[[bytes], Any], base: Callable[[], dict[str, Any]]
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(payloads, _mutated(base),
                     _mutated(base).map(lambda b: b'{"schema":1,"events":[' + b + b"]}")))
    def check(payload: bytes) -> None:
        try:
            result = decode(payload)
        except EventError as exc:
            assert exc.field and str(exc).startswith(f"{exc.field}:")
            return
        if name == "event record":  # errors as data: one (payload, event or error) per item
            assert all(isinstance(item, EventError) or item.event_id for _, item in result)

    check()


@pytest.mark.parametrize("lifecycle", [
    {"held": "x"}, {"held": [1]}, {"held": -1}, {"held": True},
    {"history": [{"action": "a", "by": "b", "at": "2026-11-29T10:00:00Z", "revision": "y"}]},
    {"history": ["nope"]}, {"last_action": 5}, {"opened_at": "yesterday"}, "not an object",
    None,  # no lifecycle: read from legacy attrs, which are hostile below
])
def test_a_hostile_alert_lifecycle_is_an_event_error(lifecycle: object) -> None:
    """A record on rs.alerts is read by the store agent, which dead-letters EventErrors only:
    anything else escaping the decoder would stop the agent."""
    alert = {"rule": "r", "site_id": "s", "severity": "major", "first_ts": "2026-11-29T10:00:00Z",
             "last_ts": "2026-11-29T10:00:00Z", "event_ids": ["e"], "explanation": "x",
             "status": "open", "alert_id": "A", "revision": 1,
             "updated_at": "2026-11-29T10:00:00Z", "schema": 1, "lifecycle": lifecycle}
    if lifecycle is None:
        del alert["lifecycle"]
        alert["attrs"] = {"history": 7, "held": "x"}
    with pytest.raises(EventError):
        Alert.from_json(json.dumps(alert).encode())
