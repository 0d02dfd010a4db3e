"""The published JSON Schemas agree with the code both ways: what the code writes validates,
what a schema calls required the decoder requires, and every field is described."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from riskstream import schemas
from riskstream.deadletter import DeadLetter
from riskstream.events import (
    Alert,
    AlertAction,
    EventError,
    Evidence,
    Heartbeat,
    ReadingSummary,
    Severity,
    encode_event_batch,
)
from riskstream.testing import make_event

T = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ALERT = Alert(rule="r", site_id="plant-a", severity=Severity.MAJOR, first_ts=T, last_ts=T,
              event_ids=("e1",), explanation="why", attrs={"key": "site"})
ACTION = AlertAction(alert_id="A1", site_id="plant-a", action="acknowledge", by="op", at=T)
OUT_OF_SERVICE = AlertAction(alert_id="", site_id="plant-a", action="out_of_service", by="op", at=T,
                             target="gas-1", comment="repair", role="supervisor")
READING = ReadingSummary("plant-a", "gas-1", "combustible_gas", "%LEL", T, 1, 1.0, 2.0, 1.5, 2.0, 3)
BEAT = Heartbeat("plant-a", "gas-1", T, {"fps": 5})
EVIDENCE = Evidence.of("E1", "plant-a", "cam-1", T, b"\xff\xd8\xff\xe0 jpeg")
DEAD = DeadLetter("edge.parse", "value: expected a number", "t/gas", b"\xff", site_id="plant-a")
# (schema file, a message the code writes, its decoder, the dataclass) per topic
CASES: list[tuple[str, bytes, Any, Any]] = [
    ("rs.events.json", make_event().to_json(), lambda b: make_event().from_json(b), type(make_event())),
    ("rs.alerts.json", ALERT.to_json(), Alert.from_json, Alert),
    ("rs.alert-actions.json", ACTION.to_json(), AlertAction.from_json, AlertAction),
    ("rs.alert-actions.json", OUT_OF_SERVICE.to_json(), AlertAction.from_json, AlertAction),
    ("rs.readings.json", READING.to_json(), ReadingSummary.from_json, ReadingSummary),
    ("rs.health.json", BEAT.to_json(), Heartbeat.from_json, Heartbeat),
    ("rs.evidence.json", EVIDENCE.to_json(), Evidence.from_json, Evidence),
]
WIRE_NAMES = {"data": "data_b64"}  # dataclass field -> its name on the wire, where they differ


def validator(name: str) -> Draft202012Validator:
    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def object_schema(name: str) -> dict[str, Any]:
    schema = schemas.load(name)
    return schema["$defs"]["event"] if "oneOf" in schema else schema


def test_every_topic_has_a_schema_naming_it() -> None:
    from riskstream.config.schema import TopicNames

    defaults = TopicNames().model_dump()
    assert set(schemas.BY_TOPIC) == set(defaults)
    for role, name in schemas.BY_TOPIC.items():
        assert schemas.load(name)["x-topic"] == defaults[role]


@pytest.mark.parametrize(("name", "message", "decode", "kind"), CASES)
def test_schema_and_code_agree(name: str, message: bytes, decode: Any, kind: Any) -> None:
    v = validator(name)
    data = json.loads(message)
    v.validate(data)
    described = object_schema(name)
    assert set(described["properties"]) == {WIRE_NAMES.get(f.name, f.name) for f in fields(kind)}
    for field_name in described["properties"]:
        partial = {k: val for k, val in data.items() if k != field_name}
        schema_accepts = v.is_valid(partial)  # also says what is required only conditionally
        if field_name in described["required"]:
            assert not schema_accepts
        if schema_accepts:
            decode(json.dumps(partial).encode())  # optional in the code too
        else:
            with pytest.raises(EventError):
                decode(json.dumps(partial).encode())


def test_enumerations_are_the_codes() -> None:
    from riskstream.events import ActionKind, AlertStatus

    alerts, events = schemas.load("rs.alerts.json"), schemas.load("rs.events.json")
    assert alerts["properties"]["status"]["enum"] == [s.value for s in AlertStatus]
    assert alerts["properties"]["severity"]["enum"] == [s.value for s in Severity]
    assert events["$defs"]["event"]["properties"]["severity"]["enum"] == [s.value for s in Severity]
    actions = schemas.load("rs.alert-actions.json")["properties"]["action"]["enum"]
    assert actions == [a.value for a in ActionKind]


def test_a_lived_alert_validates_and_an_old_one_reads() -> None:
    from riskstream.events import ActionRecord, Lifecycle

    entry = ActionRecord("acknowledge", "op", T, "seen", "01ACTION", 2)
    lived = Alert(rule="r", site_id="s", severity=Severity.MAJOR, first_ts=T, last_ts=T,
                  event_ids=("e",), explanation="x", revision=2,
                  lifecycle=Lifecycle(opened_at=T, acknowledged_at=T, history=(entry,),
                                      last_action=entry))
    validator("rs.alerts.json").validate(json.loads(lived.to_json()))
    assert Alert.from_json(lived.to_json()) == lived
    old = {**json.loads(lived.to_json()), "attrs": {"key": "site", "opened_ms": 1796000000000,
                                                    "history": [entry.to_dict()]}}
    del old["lifecycle"]  # kept in a worker's state before the typed lifecycle
    read = Alert.from_json(json.dumps(old))
    assert read.attrs == {"key": "site"} and read.lifecycle.history == (entry,)
    assert read.lifecycle.opened_at is not None and read.lifecycle.opened_at.year == 2026


def test_batches_and_dead_letters_validate() -> None:
    validator("rs.events.json").validate(json.loads(encode_event_batch([make_event(), make_event()])))
    dead = validator("rs.dlq.json")
    dead.validate(json.loads(DEAD.to_json()))
    assert set(schemas.load("rs.dlq.json")["required"]) == set(json.loads(DEAD.to_json()))


def test_what_the_schema_refuses_the_code_refuses() -> None:
    good = json.loads(make_event().to_json())
    v = validator("rs.events.json")
    for bad in ({"score": 1.5}, {"severity": "urgent"}, {"kind": "threshold"},
                {"ts": "yesterday"}, {"schema": 2}):
        data = {**good, **bad}
        assert not v.is_valid(data), bad
        with pytest.raises(EventError):
            make_event().from_json(json.dumps(data).encode())
