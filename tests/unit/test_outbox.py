"""The durable outbox (real SQLite on disk): order, acknowledgement, restart, disk budget."""

from __future__ import annotations

from pathlib import Path

from riskstream.edge.outbox import CRITICAL_PRIORITY, Outbox, OutboxRecord


def rec(i: int, priority: int = 0, size: int = 10) -> OutboxRecord:
    return OutboxRecord("rs.events", b"site", f"{i:04d}".encode() + b"x" * size, priority)


def test_highest_priority_first_then_arrival_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.put([rec(1), rec(2, priority=3), rec(3), rec(4, priority=1)])
    assert [p.value[:4] for p in box.take(10)] == [b"0002", b"0004", b"0001", b"0003"]
    first = box.take(2)
    assert [p.value[:4] for p in box.take(10, exclude=[p.seq for p in first])] == [b"0001",
                                                                                   b"0003"]


def test_acknowledged_records_are_gone_and_the_rest_survive_a_restart(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.put([rec(i) for i in range(10)], state={"level:gas-1": "2"})
    box.ack([p.seq for p in box.take(4)])
    assert box.depth() == 6
    box.close()
    again = Outbox(tmp_path / "o.db")  # as after a crash and restart
    assert again.depth() == 6
    assert [p.value[:4] for p in again.take(100)] == [f"{i:04d}".encode() for i in range(4, 10)]
    assert again.state("level:") == {"level:gas-1": "2"}
    assert again.bytes_used > 0


def test_disk_budget_drops_oldest_low_severity_first_never_critical(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=2880)  # files; about 20 records of ~90 bytes
    box.put([rec(i, priority=CRITICAL_PRIORITY, size=16) for i in range(5)])
    box.put([rec(100 + i, priority=1, size=16) for i in range(5)])
    result = box.put([rec(200 + i, priority=0, size=16) for i in range(30)])
    assert result.dropped > 0 and box.dropped_total == result.dropped
    values = [p.value[:4] for p in box.take(1000)]
    assert values[:5] == [f"{i:04d}".encode() for i in range(5)]  # every critical kept
    assert [v for v in values if v.startswith(b"01")] == [f"{100 + i:04d}".encode()
                                                          for i in range(5)]
    kept_low = [v for v in values if v.startswith(b"02")]
    assert kept_low == sorted(kept_low) and kept_low[-1] == b"0229"  # the newest stay
    assert box.bytes_used <= 20 * 90
    # Only critical left and still over budget: they are kept, not dropped.
    tiny = Outbox(tmp_path / "t.db", max_bytes=100)
    assert tiny.put([rec(i, priority=CRITICAL_PRIORITY) for i in range(5)]).dropped == 0
    assert tiny.depth() == 5


def test_forwarder_takes_each_record_once_critical_first(tmp_path: Path) -> None:
    from riskstream.config.schema import KafkaSettings
    from riskstream.edge.forwarder import Forwarder

    box = Outbox(tmp_path / "o.db")
    box.put([rec(1), rec(2, priority=CRITICAL_PRIORITY), rec(3)])
    fwd = Forwarder(box, KafkaSettings(bootstrap="127.0.0.1:1"))  # never connects: no I/O here
    first = fwd._take(room=10, healthy=True)
    assert [p.value[:4] for p in first] == [b"0002", b"0001", b"0003"]
    fwd._in_flight.update(p.seq for p in first)
    assert fwd._take(room=10, healthy=True) == []
    # after an outage the backlog is read again by priority, skipping what is in flight
    box.put([rec(4), rec(5, priority=CRITICAL_PRIORITY)])
    fwd._in_flight.clear()
    assert [p.value[:4] for p in fwd._take(room=10, healthy=False)][:2] == [b"0002", b"0005"]


def test_the_files_stay_within_the_budget(tmp_path: Path) -> None:
    """Database and write-ahead log together (they took 6.8 MB for a 2 MB budget)."""
    budget = 2 * 1024 * 1024
    box = Outbox(tmp_path / "o.db", max_bytes=budget)
    largest = 0
    for batch in range(300):  # ~9 MB of events offered while Kafka is away, in group commits
        box.put([rec(batch * 100 + i, priority=i % 3, size=300) for i in range(100)])
        if batch % 10 == 0:  # and some acknowledged now and then
            box.ack([p.seq for p in box.take(50)])
        largest = max(largest, box.file_bytes())
    assert box.dropped_total > 0
    assert largest <= budget, f"{largest / 2**20:.2f} MB on disk for a 2 MB budget"
    assert box.file_bytes() > budget / 4  # the budget is used, not wasted
