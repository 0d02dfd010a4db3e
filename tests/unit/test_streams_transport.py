"""The workers' Faust transport: Faust's aiokafka consumer with a short fetch long-poll."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from riskstream.config import load
from riskstream.streams.app import create_app
from riskstream.streams.transport import FETCH_MAX_WAIT_MS, Transport

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_consumer_long_polls_briefly(tmp_path: Path) -> None:
    async def build() -> int:
        cfg = load(REPO / "config" / "demo.yaml", environ={})
        app = create_app(cfg, "correlate", tmp_path)
        # the broker URL's scheme finds the transport through the faust.transports entry point
        assert isinstance(app.transport, Transport)
        consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms)  # Faust's own value is 1500
        finally:
            await consumer.stop()  # never started: only releases what the constructor made

    assert asyncio.run(build()) == FETCH_MAX_WAIT_MS <= 100


def _commit_state(acked: list[int], committed: int | None, gaps: list[tuple[int, int]] = ()
                  ) -> object:
    """A stand-in for Faust's consumer holding only the fields its commit rule reads (for one
    partition ``tp``): the rule is pure logic; the real consumer runs in the integration tests
    (two workers, SIGKILL) and the scaling benchmark."""
    from collections import defaultdict
    from types import SimpleNamespace

    from intervaltree import IntervalTree

    from riskstream.streams.offset_guard import OffsetGuard

    tree = IntervalTree()
    for begin, end in gaps:
        tree.addi(begin, end)
    return SimpleNamespace(_acked={"tp": list(acked)}, _acked_index={"tp": set(acked)},
                           _gap=defaultdict(IntervalTree, {"tp": tree}),
                           _committed_offset={"tp": committed}, _offset_guard=OffsetGuard())


def test_commit_offset_with_duplicated_acks_reaches_the_first_hole() -> None:
    """After a rebalance Faust's acked list held duplicates and committed ~1 offset per commit;
    the rule on the set of offsets commits the whole run at once."""
    from riskstream.streams.transport import _Consumer

    state = _commit_state([190, 190, 191, 191, 192, 193, 193, 194, 197], committed=190)
    assert _Consumer._new_offset(state, "tp") == 195  # type: ignore[arg-type]
    assert state._acked["tp"] == [197] and state._acked_index["tp"] == {197}  # type: ignore[attr-defined]


def test_commit_offset_never_counts_a_jump_as_done_and_waits_at_a_head_hole() -> None:
    """A jump in fetched offsets (a stale prefetched record after a rebalance) once made Faust
    commit past records nobody processed (the fault runner lost 215 events that way)."""
    from riskstream.streams.transport import _Consumer

    state = _commit_state([10, 11, 15, 16], committed=10, gaps=[(12, 15)])
    assert _Consumer._new_offset(state, "tp") == 12  # up to the hole, not past it
    assert state._acked["tp"] == [15, 16]  # type: ignore[attr-defined]
    # acked starts two past the committed offset: something in between is not done yet
    assert _Consumer._new_offset(_commit_state([13, 14], committed=10), "tp") is None  # type: ignore[arg-type]
    assert _Consumer._new_offset(_commit_state([], committed=10), "tp") is None  # type: ignore[arg-type]


def test_a_skipped_stale_record_is_not_acked_for_commit() -> None:
    from types import SimpleNamespace

    from riskstream.streams.transport import _Consumer

    consumer = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=7))
    stale = SimpleNamespace(generation_id=6, acked=False)
    assert _Consumer.ack(consumer, stale) is False and stale.acked  # type: ignore[arg-type]


def test_nothing_acked_while_the_worker_stops_is_committed() -> None:
    """take_events acks a whole batch in its ``finally`` when Faust cancels the agent at stop,
    stored or not; the commit on stop then passed records that were never written."""
    from types import SimpleNamespace

    from riskstream.streams.transport import _Consumer

    consumer = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=7, should_stop=True))
    message = SimpleNamespace(generation_id=7, acked=False)
    assert _Consumer.ack(consumer, message) is False and message.acked  # type: ignore[arg-type]


def test_the_guard_rewinds_a_jump_ahead_and_skips_the_rest_of_that_fetch() -> None:
    from riskstream.streams.offset_guard import Decision, OffsetGuard

    guard = OffsetGuard()
    guard.seeked("tp", 100)  # a rebalance: back to the committed offset
    guard.new_batch()
    # records of a fetch made at the old position arrive first
    assert guard.decide("tp", 140) is Decision.REWIND and guard.expected("tp") == 100
    assert guard.decide("tp", 141) is Decision.SKIP
    assert guard.decide("other", 7) is Decision.DELIVER  # other partitions are not held up
    guard.seeked("tp", 100)
    guard.new_batch()
    assert [guard.decide("tp", o) for o in (100, 101, 102)] == [Decision.DELIVER] * 3
    assert guard.decide("tp", 101) is Decision.DELIVER  # a repeat: Faust drops it itself
    assert guard.expected("tp") == 103
    assert guard.decide("tp", 104) is Decision.REWIND  # one record missing is a jump too


def test_a_hole_kafka_confirms_twice_is_delivered_and_committed_past() -> None:
    from riskstream.streams.offset_guard import Decision, OffsetGuard
    from riskstream.streams.transport import _Consumer

    guard = OffsetGuard()
    guard.seeked("tp", 10)
    decisions = []
    for _ in range(3):  # retention deleted 10..49: every seek back lands on 50 again
        guard.new_batch()
        decisions.append(guard.decide("tp", 50))
        if decisions[-1] is Decision.REWIND:
            guard.seeked("tp", 10)
    assert decisions == [Decision.REWIND, Decision.REWIND, Decision.GONE]
    assert guard.hole_covers("tp", 10, 50) and not guard.hole_covers("tp", 9, 50)
    state = _commit_state([50, 51], committed=10)
    state._offset_guard = guard  # type: ignore[attr-defined]
    assert _Consumer._new_offset(state, "tp") == 52  # type: ignore[arg-type]
    # without the confirmed hole the commit waits for offset 10
    assert _Consumer._new_offset(_commit_state([50, 51], committed=10), "tp") is None  # type: ignore[arg-type]


def test_the_consumer_reads_again_what_a_stale_record_would_have_made_faust_drop(
        monkeypatch: Any) -> None:
    """Faust's own consumer around the guard, its fetches scripted: after a seek back to the
    committed offset a record of the old fetch position arrives first. Before the guard Faust
    delivered it and then dropped offsets 100-105 when they came again (lost until a restart)."""
    from types import SimpleNamespace

    from faust.transport.drivers import aiokafka as faust_aiokafka

    from riskstream.streams.offset_guard import OffsetGuard
    from riskstream.streams.transport import _Consumer

    batches = [[106, 107], [100, 101, 102, 103, 104, 105, 106, 107]]
    seeks: list[tuple[str, int]] = []

    async def scripted_getmany(self: Any, timeout: float) -> Any:
        for offset in batches.pop(0):
            yield "tp", SimpleNamespace(topic="rs.events", offset=offset)

    async def record_seek(self: Any, tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    async def committed(self: Any) -> dict[str, int]:
        return {"tp": 100}

    monkeypatch.setattr(faust_aiokafka.Consumer, "getmany", scripted_getmany)
    monkeypatch.setattr(faust_aiokafka.Consumer, "seek", record_seek)
    monkeypatch.setattr(faust_aiokafka.Consumer, "seek_to_committed", committed)
    consumer = object.__new__(_Consumer)
    consumer._offset_guard = OffsetGuard()
    consumer.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda t: True))

    async def drain() -> list[int]:
        await consumer.seek_to_committed()
        delivered = []
        while batches:
            delivered += [m.offset async for _, m in consumer.getmany(timeout=1.0)]
        return delivered

    assert asyncio.run(drain()) == [100, 101, 102, 103, 104, 105, 106, 107]
    assert seeks == [("tp", 100)]


def test_failed_seeks_back_never_make_a_jump_look_like_a_hole() -> None:
    """Declaring a hole commits past it: only seeks that happened count as evidence."""
    from riskstream.streams.offset_guard import Decision, OffsetGuard

    guard = OffsetGuard()
    guard.seeked("tp", 10)
    for _ in range(4):  # the seek back fails every time (e.g. the partition was revoked)
        guard.new_batch()
        assert guard.decide("tp", 50) is Decision.REWIND
        guard.seek_failed("tp")
    assert not guard.hole_covers("tp", 10, 50)


def test_a_seek_back_that_fails_is_logged_and_the_stale_records_stay_undelivered(
        monkeypatch: Any) -> None:
    from types import SimpleNamespace

    from faust.transport.drivers import aiokafka as faust_aiokafka

    from riskstream.streams.offset_guard import OffsetGuard
    from riskstream.streams.transport import _Consumer

    async def stale(self: Any, timeout: float) -> Any:
        for offset in (50, 51):
            yield "tp", SimpleNamespace(topic="rs.events", offset=offset)

    async def revoked(self: Any, tp: str, offset: int) -> None:
        raise RuntimeError("No current assignment for partition")

    monkeypatch.setattr(faust_aiokafka.Consumer, "getmany", stale)
    monkeypatch.setattr(faust_aiokafka.Consumer, "seek", revoked)
    consumer = object.__new__(_Consumer)
    consumer._offset_guard = OffsetGuard()
    consumer._offset_guard.seeked("tp", 10)
    consumer.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda t: True))

    async def drain() -> list[int]:
        delivered = []
        for _ in range(4):  # more tries than REWINDS_BEFORE_GONE: still no hole declared
            delivered += [m.offset async for _, m in consumer.getmany(timeout=1.0)]
        return delivered

    assert asyncio.run(drain()) == []
    assert not consumer._offset_guard.hole_covers("tp", 10, 50)
