"""The edge agent's durability rules without brokers: an unwritable outbox stops the
acknowledgements and recovers without losing a record; open reading windows survive a crash;
the forwarder's batch records decode to the events it stored."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.config import parse
from riskstream.edge import metrics
from riskstream.edge.agent import EdgeAgent
from riskstream.edge.forwarder import pack
from riskstream.edge.outbox import Pending
from riskstream.events import Event, ReadingSummary, decode_event_record
from riskstream.testing import FakeClock, make_event

CONFIG = """\
sites:
  - {id: plant-a, name: Plant A, district: north, kind: chemical_plant,
     risk_points: [{id: tank-farm, name: Tank farm}]}
sensors:
  - {id: gas-1, site: plant-a, point: tank-farm, metric: combustible_gas, unit: '%LEL',
     topic: plant-a/gas-1, thresholds: {warning: 25, alarm: 50}}
"""
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def reading(value: float, at: datetime) -> bytes:
    return json.dumps({"value": value, "ts": at.isoformat()}).encode()


@pytest.fixture
def agent(tmp_path: Path) -> EdgeAgent:
    return make_agent(tmp_path)


def make_agent(state: Path) -> EdgeAgent:
    clock = FakeClock(T0 + timedelta(seconds=5))
    agent = EdgeAgent(parse(CONFIG, "edge.yaml"), state, clock=clock)
    agent.acked: list[int] = []  # type: ignore[misc]
    agent.reports: list[Any] = []  # type: ignore[misc]
    agent.source.ack = lambda mid, qos: agent.acked.append(mid)  # type: ignore[attr-defined,method-assign]
    agent.forwarder.report_now = (  # type: ignore[method-assign]
        lambda topic, beat: agent.reports.append(beat.attrs["outbox_writable"]))  # type: ignore[attr-defined]
    return agent


def test_an_unwritable_outbox_withholds_acks_and_recovers_without_loss(agent: EdgeAgent,
                                                                       monkeypatch: Any) -> None:
    real_put, failures = agent.outbox.put, [2]

    def put(*args: Any, **kwargs: Any) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real_put(*args, **kwargs)

    monkeypatch.setattr(agent.outbox, "put", put)
    for i, value in enumerate((10, 30, 60)):  # normal, warning, alarm: two events
        agent.handle("plant-a/gas-1", reading(value, T0 + timedelta(seconds=i)), mid=i + 1, qos=1)
    assert agent.commit() == 0 and agent.acked == []  # nothing acknowledged while failing
    assert metrics.OUTBOX_WRITABLE._value.get() == 0 and agent.reports == [False]
    agent.handle("plant-a/gas-1", reading(61, T0 + timedelta(seconds=3)), mid=4, qos=1)
    agent._retry_at = 0.0  # the retry is due
    assert agent.commit() == 0  # second failure
    agent._retry_at = 0.0
    assert agent.commit() == 4 and agent.acked == [1, 2, 3, 4]  # in order, once each
    assert metrics.OUTBOX_WRITABLE._value.get() == 1 and agent.reports == [False, True]
    values = [json.loads(p.value) for p in agent.outbox.take(100)]
    events = sorted((v for v in values if "kind" in v), key=lambda e: e["ts"])
    assert [e["attrs"]["level"] for e in events] == ["warning", "alarm"]
    assert agent.outbox.state("level:") == {"level:gas-1": "2"}


def test_open_reading_windows_survive_a_crash(tmp_path: Path) -> None:
    first = make_agent(tmp_path)
    for i in range(5):  # five readings in the 1 s window from T0 (and the minute window)
        first.handle("plant-a/gas-1", reading(10 + i, T0 + timedelta(milliseconds=100 * i)),
                     mid=i + 1, qos=1)
    first.commit()
    assert first.acked == [1, 2, 3, 4, 5]
    first.outbox.close()  # killed: no flush, no goodbye
    again = make_agent(tmp_path)
    again.handle("plant-a/gas-1", reading(20, T0 + timedelta(seconds=1, milliseconds=500)),
                 mid=6, qos=1)
    again.commit()
    summaries = [ReadingSummary.from_json(p.value) for p in again.outbox.take(100)
                 if p.topic == again._topics.readings]
    (second,) = [s for s in summaries if s.window_s == 1]
    assert (second.count, second.min, second.max) == (5, 10.0, 14.0)  # nothing lost
    again.tick(T0 + timedelta(minutes=2))  # the minute window: 5 + 1 readings
    again.commit()
    minute = [ReadingSummary.from_json(p.value) for p in again.outbox.take(100)
              if p.topic == again._topics.readings and b'"window_s":60' in p.value]
    assert [m.count for m in minute] == [6]


def test_forwarded_batches_decode_to_the_stored_events() -> None:
    events = [make_event(site_id="plant-a", source_id=f"gas-{i}") for i in range(3)]
    other = make_event(site_id="plant-b")
    taken = [Pending(i, "rs.events", b"plant-a", e.to_json()) for i, e in enumerate(events)]
    taken += [Pending(9, "rs.events", b"plant-b", other.to_json()),
              Pending(10, "rs.readings", b"plant-a", b'{"r":1}'), Pending(11, "rs.readings", b"plant-a",
                                                                        b'{"r":2}')]
    records = pack(taken, {"rs.events"})
    assert [(t, k, seqs) for t, k, seqs, _ in records] == [
        ("rs.events", b"plant-a", [0, 1, 2]), ("rs.events", b"plant-b", [9]),
        ("rs.readings", b"plant-a", [10]), ("rs.readings", b"plant-a", [11])]
    decoded = [[e for _, e in decode_event_record(v)] for t, _, _, v in records if t == "rs.events"]
    assert decoded == [events, [other]]
    assert all(isinstance(e, Event) for batch in decoded for e in batch)


def test_the_edge_says_when_kafka_does_not_answer(tmp_path: Path, caplog: Any) -> None:
    """With no environment the edge once said "running" while librdkafka failed every 0.5 s."""
    from riskstream.config.schema import KafkaSettings
    from riskstream.edge.forwarder import Forwarder
    from riskstream.edge.outbox import Outbox
    from riskstream.services.process import free_port

    forwarder = Forwarder(Outbox(tmp_path / "o.db"), KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}"))
    with caplog.at_level("ERROR"):
        forwarder._check_reachable(timeout=1.0)
    assert metrics.KAFKA_REACHABLE._value.get() == 0
    assert any("does not answer" in r.getMessage() and "RS_KAFKA_BOOTSTRAP" in r.getMessage()
               for r in caplog.records)


def test_a_snapshot_goes_to_the_center_with_its_event(agent: EdgeAgent, tmp_path: Path) -> None:
    from riskstream.events import Evidence

    shot = tmp_path / "E1.jpg"
    shot.write_bytes(b"\xff\xd8\xff\xe0 a jpeg")
    seen = make_event(kind="video.intrusion", site_id="plant-a", source_id="cam-1",
                      snapshot=str(shot))
    lost = make_event(kind="video.intrusion", site_id="plant-a", source_id="cam-1",
                      snapshot=str(tmp_path / "gone.jpg"))
    missing_before = metrics.EVIDENCE.labels("missing")._value.get()
    agent.submit_events([seen, lost])
    records = agent._pending_records
    shipped = [r for r in records if r.topic == "rs.evidence"]
    assert [r.topic for r in records].count("rs.events") == 2 and len(shipped) == 1
    evidence = Evidence.from_json(shipped[0].value)
    assert evidence.event_id == seen.event_id and evidence.data == shot.read_bytes()
    assert shipped[0].key == b"plant-a" and shipped[0].priority == seen.severity.rank
    assert metrics.EVIDENCE.labels("missing")._value.get() == missing_before + 1


def test_a_snapshot_always_fits_the_evidence_record() -> None:
    import numpy as np

    from riskstream.edge.camera.snapshots import encode_bounded

    noise = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    data = encode_bounded(noise, 95, 200_000)  # noise barely compresses: must shrink to fit
    assert data.startswith(b"\xff\xd8\xff") and len(data) <= 200_000


def _window_counts(agent: EdgeAgent) -> list[int]:
    return [ReadingSummary.from_json(p.value).count for p in agent.outbox.take(1000)
            if p.topic == agent._topics.readings and b'"window_s":1,' in p.value]


def test_a_message_resent_after_a_crash_between_commit_and_puback_is_not_counted_twice(
        tmp_path: Path) -> None:
    """CI found 4,001 readings summarised of 4,000: the edge was killed after a commit and
    before its PUBACKs reached Mosquitto, which re-sent those messages (DUP, same packet ids)
    into the windows restored from the outbox."""
    first = make_agent(tmp_path)
    payloads = [reading(10 + i, T0 + timedelta(milliseconds=100 * i)) for i in range(5)]
    for i, payload in enumerate(payloads):
        first.handle("plant-a/gas-1", payload, mid=i + 1, qos=1)
    first.commit()
    first.outbox.close()  # killed: the PUBACKs of 3, 4 and 5 never left the socket
    again = make_agent(tmp_path)
    redelivered = metrics.MQTT_REDELIVERED._value.get()
    for mid in (3, 4, 5):
        again.handle("plant-a/gas-1", payloads[mid - 1], mid=mid, qos=1, dup=True)
    again.handle("plant-a/gas-1", reading(20, T0 + timedelta(seconds=1, milliseconds=500)),
                 mid=6, qos=1)
    again.commit()
    assert again.acked == [3, 4, 5, 6]  # the re-sent ones are acknowledged all the same
    assert _window_counts(again) == [5]  # not 8
    assert metrics.MQTT_REDELIVERED._value.get() == redelivered + 3


def test_a_resent_message_the_outbox_never_held_is_processed(tmp_path: Path) -> None:
    """Re-sent but never committed (killed before the commit), or a packet id the broker
    reused for other bytes: both are new readings, never dropped."""
    first = make_agent(tmp_path)
    first.handle("plant-a/gas-1", reading(10, T0), mid=1, qos=1)
    first.commit()
    first.handle("plant-a/gas-1", reading(11, T0 + timedelta(milliseconds=100)), mid=2, qos=1)
    first.outbox.close()  # killed before message 2 was committed
    again = make_agent(tmp_path)
    again.handle("plant-a/gas-1", reading(11, T0 + timedelta(milliseconds=100)), mid=2, qos=1,
                 dup=True)
    again.handle("plant-a/gas-1", reading(12, T0 + timedelta(milliseconds=200)), mid=1, qos=1,
                 dup=True)  # the id of a committed message, other bytes
    again.handle("plant-a/gas-1", reading(10, T0), mid=1, qos=1)  # not flagged DUP: new
    again.tick(T0 + timedelta(seconds=5))
    again.commit()
    assert again.acked == [2, 1, 1]
    assert _window_counts(again) == [4]


def test_a_resend_within_one_run_is_acknowledged_after_the_commit_holding_the_original(
        agent: EdgeAgent) -> None:
    """After an MQTT reconnect the broker re-sends what was not acknowledged yet, possibly
    still waiting in the pending commit."""
    payload = reading(10, T0)
    agent.handle("plant-a/gas-1", payload, mid=7, qos=1)
    agent.handle("plant-a/gas-1", payload, mid=7, qos=1, dup=True)
    assert agent.acked == []
    agent.commit()
    assert agent.acked == [7, 7]
    agent.tick(T0 + timedelta(seconds=5))
    agent.commit()
    assert _window_counts(agent) == [1]
