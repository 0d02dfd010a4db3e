"""The worker's decode step: valid events pass, everything else becomes a dead letter."""

from __future__ import annotations

import json

from riskstream.streams.decode import RawRecord, decode_events
from riskstream.testing import make_event


def test_decode_splits_events_and_dead_letters() -> None:
    good = make_event()
    bad_severity = good.to_dict() | {"severity": "panic"}
    records = [
        RawRecord(good.to_json(), b"plant-east", "rs.events/0@1"),
        RawRecord(json.dumps(bad_severity).encode(), b"plant-east", "rs.events/0@2"),
        RawRecord(b"\xff\xfe", None, "rs.events/1@7"),
        RawRecord(None, b"plant-east", "rs.events/2@3"),
    ]
    events, dead = decode_events(records)
    assert events == [good]
    assert [(d.source, d.site_id) for d in dead] == [
        ("rs.events/0@2", "plant-east"), ("rs.events/1@7", None), ("rs.events/2@3", "plant-east")]
    assert dead[0].reason.startswith("severity: expected one of")
    assert dead[1].reason.startswith("payload: not valid UTF-8 JSON")
    assert "tombstone" in dead[2].reason
    assert all(d.stage == "worker.decode" for d in dead)
