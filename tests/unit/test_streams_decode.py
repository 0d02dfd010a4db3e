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
    single = SharedDecoder(readers=1)
    assert single.decode("rs.events/0@1", payload) is not single.decode("rs.events/0@1", payload)


def test_shared_decoder_full_keeps_what_the_lagging_reader_needs_next() -> None:
    """A leader far ahead: the oldest entries stay (the laggard reads them next), new ones are
    not cached, memory stays bounded; entries unread for stale_s make room again."""
    from riskstream.events import encode_event_batch
    from riskstream.streams.decode import SharedDecoder
    from riskstream.testing import make_event

    payload = encode_event_batch([make_event(), make_event()])
    now = [0.0]
    shared = SharedDecoder(readers=2, max_events=4, stale_s=60, clock=lambda: now[0])
    leader = [shared.decode(f"rs.events/0@{o}", payload) for o in range(1, 7)]  # 12 events
    assert shared._events == 4 and shared.not_cached == 4
    lagging = [shared.decode(f"rs.events/0@{o}", payload) for o in range(1, 7)]
    assert [a is b for a, b in zip(leader, lagging, strict=True)] == [True, True] + [False] * 4
    assert shared.hits == 2 and shared._events == 0
    shared.decode("rs.events/0@7", payload)
    shared.decode("rs.events/0@8", payload)  # full again; nobody reads these two
    now[0] = 61.0
    shared.decode("rs.events/0@9", payload)  # the oldest stale entry makes room
    assert list(shared._cache) == ["rs.events/0@8", "rs.events/0@9"] and shared._events == 4
