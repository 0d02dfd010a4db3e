"""Event/Alert contract: round trip, ids, and rejection of bad input naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskstream.events import (
    Alert,
    AlertStatus,
    Event,
    EventError,
    Severity,
    _UlidFactory,
    _wire_dict,
    event_id_time,
    new_event_id,
)
from riskstream.testing import make_event

TS = datetime(2026, 11, 29, 10, 0, 0, 123000, tzinfo=UTC)


def test_event_round_trip_keeps_every_field() -> None:
    event = make_event(zone="z1", snapshot="snapshots/a.jpg", ts=TS)
    back = Event.from_json(event.to_json())
    assert back == event
    wire = json.loads(event.to_json())
    assert wire["schema"] == 1
    assert wire["ts"] == "2026-11-29T10:00:00.123Z"
    assert wire["severity"] == "warning"


def test_times_are_converted_to_utc_and_truncated_to_ms() -> None:
    plus8 = timezone(timedelta(hours=8))
    event = make_event(ts=datetime(2026, 11, 29, 18, 0, 0, 123456, tzinfo=plus8))
    assert event.ts == TS
    assert event.ts.tzinfo == UTC


def test_naive_time_is_rejected() -> None:
    with pytest.raises(EventError) as err:
        make_event(ts=datetime(2026, 11, 29, 10, 0))
    assert err.value.field == "ts"


def test_event_ids_are_unique_and_time_sortable() -> None:
    ids = [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)
    factory = _UlidFactory()  # a fresh one: the shared one never goes back in time
    early, late = factory.new(1_000_000), factory.new(2_000_000)
    assert early < late
    assert event_id_time(late) == datetime.fromtimestamp(2000, tz=UTC)
    assert factory.new(1_500_000) > late  # a clock step back still sorts after


def test_event_ids_from_many_threads_are_unique() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda _: new_event_id(), range(20000)))
    assert len(set(ids)) == 20000


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("kind"), "kind"),
        (lambda d: d.update(kind=7), "kind"),
        (lambda d: d.update(score=1.5), "score"),
        (lambda d: d.update(score="high"), "score"),
        (lambda d: d.update(severity="panic"), "severity"),
        (lambda d: d.update(ts="yesterday"), "ts"),
        (lambda d: d.update(ts="2026-11-29T10:00:00"), "ts"),  # no offset: ambiguous
        (lambda d: d.update(schema=2), "schema"),
        (lambda d: d.update(attrs=[1, 2]), "attrs"),
        (lambda d: d.update(value=True), "value"),
        (lambda d: d.pop("site_id"), "site_id"),
        (lambda d: d.update(site_id=""), "site_id"),
    ],
)
def test_bad_fields_are_rejected_by_name(mutate: object, field: str) -> None:
    data = make_event().to_dict()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(EventError) as err:
        Event.from_json(json.dumps(data))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}:")


@pytest.mark.parametrize("payload", [b"not json", b"[1,2]", b"\xff\xfe", b"null"])
def test_undecodable_payloads_are_rejected(payload: bytes) -> None:
    with pytest.raises(EventError) as err:
        Event.from_json(payload)
    assert err.value.field == "payload"


def test_alert_round_trip_and_checks() -> None:
    alert = Alert(
        rule="gas-and-motion", site_id="plant-east", district="binhai",
        severity=Severity.CRITICAL, first_ts=TS, last_ts=TS + timedelta(seconds=40),
        event_ids=("a", "b"), explanation="gas-tf-01 >= 50 %LEL and motion in tank-farm within 60 s",
    )
    back = Alert.from_json(alert.to_json())
    assert back == alert
    assert back.status is AlertStatus.OPEN
    with pytest.raises(EventError) as err:
        Alert(rule="r", site_id="s", severity=Severity.INFO, first_ts=TS,
              last_ts=TS - timedelta(seconds=1), event_ids=(), explanation="x")
    assert err.value.field == "last_ts"
    bad = alert.to_dict() | {"event_ids": "a,b"}
    with pytest.raises(EventError, match="event_ids"):
        Alert.from_json(json.dumps(bad))


def test_the_spelled_out_wire_form_matches_the_dataclass_fields() -> None:
    # Event.to_dict lists the fields by hand for speed: a field added to Event must appear.
    event = make_event(zone="z1", snapshot="s.jpg", ts=TS)
    assert event.to_dict() == _wire_dict(event)
    assert list(event.to_dict()) == list(_wire_dict(event))


def test_a_non_finite_float_inside_attrs_is_written_as_null() -> None:
    # Documented behaviour of the orjson encoder; the validated fields can never be NaN.
    event = make_event(attrs={"ratio": float("nan"), "n": 1})
    assert json.loads(event.to_json())["attrs"] == {"ratio": None, "n": 1}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(make_event().to_dict())), JSON_VALUES, max_size=6))
def test_any_field_value_gives_an_event_or_an_error_naming_a_field(changes: dict[str, object]) -> None:
    data = {**make_event().to_dict(), **changes}
    payload = json.dumps(data).encode()  # NaN becomes the non-JSON token NaN: rejected too
    try:
        event = Event.from_json(payload)
    except EventError as err:
        assert err.field and str(err).startswith(f"{err.field}:")
    else:
        assert event.to_dict()["event_id"] == data["event_id"]
