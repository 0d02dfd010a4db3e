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


def test_a_batch_record_yields_each_event_and_a_bad_one_costs_only_itself() -> None:
    from riskstream.events import encode_event_batch

    good = [make_event(value=float(i)) for i in range(3)]
    batch = json.loads(encode_event_batch(good))
    batch["events"].insert(1, {**good[0].to_dict(), "score": 7})
    events, dead = decode_events([RawRecord(json.dumps(batch).encode(), b"plant-east", "t/0@9")])
    assert events == good
    (bad,) = dead
    assert bad.reason.startswith("score: must be within [0, 1]")
    assert json.loads(bad.payload)["score"] == 7  # the bad event's own bytes, not the batch
    events, dead = decode_events([RawRecord(b'{"schema": 1, "events": 5}', None, "t/0@10")])
    assert events == [] and dead[0].reason.startswith("events:")


def test_shared_decoder_decodes_each_record_once_for_two_readers() -> None:
    from riskstream.events import encode_event_batch
    from riskstream.streams.decode import SharedDecoder
    from riskstream.testing import make_event

    payload = encode_event_batch([make_event(), make_event()])
    shared = SharedDecoder(readers=2, max_events=4)
    first = shared.decode("rs.events/0@1", payload)
    assert shared.decode("rs.events/0@1", payload) is first and shared.hits == 1
    again = shared.decode("rs.events/0@1", payload)  # a third read (a re-delivery): decoded anew
    assert again is not first and [i[1] for i in again] == [i[1] for i in first]
    for offset in range(2, 6):  # a lagging reader: old entries are evicted, never unbounded
        shared.decode(f"rs.events/0@{offset}", payload)
    assert shared._events <= 4
    single = SharedDecoder(readers=1)
    assert single.decode("rs.events/0@1", payload) is not single.decode("rs.events/0@1", payload)
