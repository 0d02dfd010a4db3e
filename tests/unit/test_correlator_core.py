"""The correlator's at-least-once core on the in-memory driver: no Kafka, no Faust, seconds.

Each test re-enacts a defect seen on the real stack (the trust issue's items 1-4) and checks
that nothing is lost, doubled or committed past a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from riskstream.config.schema import Config
from riskstream.events import (
    ActionKind,
    Alert,
    AlertAction,
    Event,
    Severity,
    encode_event_batch,
)
from riskstream.streams.correlator_core import (
    CorrelatorCore,
    CorrelatorStuck,
    Record,
    partition_of,
)
from riskstream.testing import MemoryOutlet, MemoryStore, make_event

PARTS = 4
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
SITES = ["plant-a", "plant-b", "plant-c"]


def config() -> Config:
    return Config.model_validate({
        "sites": [{"id": s, "name": s, "district": "harbour", "kind": "chemical_plant",
                   "risk_points": [{"id": "tank-farm", "name": "Tank farm"}]} for s in SITES],
        "kafka": {"partitions": PARTS},
        "correlation": {"rules": [
            {"name": "gas-and-motion", "type": "co_occurrence", "severity": "critical",
             "window_s": 60, "all_of": [
                 {"kind": "sensor.threshold", "metric": "combustible_gas"},
                 {"kind": "video.*", "min_severity": "info"}]},
            {"name": "gas-count", "type": "count", "threshold": 3, "window_s": 600,
             "match": {"kind": "sensor.threshold", "metric": "combustible_gas"}},
        ]},
    })


class Log:
    """Topics as append-only partition logs: what a producer would leave in Kafka."""

    def __init__(self) -> None:
        self.offsets: dict[tuple[str, int], int] = {}

    def record(self, topic: str, key: str | None, value: bytes | None,
               partition: int | None = None) -> Record:
        p = partition if partition is not None else partition_of(key or "", PARTS)
        offset = self.offsets.get((topic, p), 0)
        self.offsets[(topic, p)] = offset + 1
        return Record(topic, p, offset, key.encode() if key is not None else None, value)


def gas(site: str, at: float, n: int) -> Event:
    return make_event(event_id=f"{site}-gas-{n}", site_id=site, source_id=f"gas-{n % 2}",
                      ts=T0 + timedelta(seconds=at), severity=Severity.WARNING,
                      attrs={"metric": "combustible_gas"})


def motion(site: str, at: float) -> Event:
    return make_event(event_id=f"{site}-cam-{at}", kind="video.motion", site_id=site,
                      source_id="cam-1", zone="tank-farm", ts=T0 + timedelta(seconds=at),
                      severity=Severity.INFO, score=0.7, value=None, unit=None, attrs={})


def core_on(store: MemoryStore, outlet: MemoryOutlet, clock: list[float] | None = None,
            give_up_s: float = 30.0) -> CorrelatorCore:
    now = clock if clock is not None else [T0.timestamp()]

    async def no_sleep(_s: float) -> None:
        now[0] += _s  # the clock moves while the core waits, as it would

    return CorrelatorCore(config(), store, outlet, clock=lambda: now[0], give_up_s=give_up_s,
                          sleep=no_sleep)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def alerts_of(outlet: MemoryOutlet) -> list[Alert]:
    return [Alert.from_json(m.value) for m in outlet.on("rs.alerts")]


def final(alerts: Sequence[Alert]) -> dict[str, tuple[int, tuple[str, ...], str]]:
    out: dict[str, Alert] = {}
    for a in alerts:
        if a.alert_id not in out or a.revision > out[a.alert_id].revision:
            out[a.alert_id] = a
    return {k: (a.revision, tuple(sorted(a.event_ids)), a.status.value) for k, a in out.items()}


ALL = set(range(PARTS))


def test_a_failing_first_write_is_retried_and_the_first_alert_arrives() -> None:
    """Item 1: the first batch's table write failed (the producer did not know the changelog
    topic yet) and the record was committed anyway; now it is retried until it is stored."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    store.fail_next = 2
    core = core_on(store, outlet)
    events = [gas("plant-a", 0, 1), motion("plant-a", 5)]
    run(core.on_batch([log.record("rs.events", "plant-a", e.to_json()) for e in events], ALL))
    assert [a.rule for a in alerts_of(outlet)] == ["gas-and-motion"]
    state = orjson.loads(store.data[b"plant-a"])
    assert state["applied"] == {f"rs.events/{partition_of('plant-a', PARTS)}": 1}


def test_a_batch_that_cannot_be_delivered_stops_the_core_instead_of_being_acknowledged() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    outlet.fail_next = 10**6
    core = core_on(store, outlet, give_up_s=20)
    rec = log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())
    with pytest.raises(CorrelatorStuck, match="publishing"):
        run(core.on_batch([rec], ALL))
    assert store.data == {}  # nothing stored: a restart reads the record again


def test_a_burst_of_one_site_is_stored_in_records_kafka_accepts() -> None:
    """Item 2: 35,982 ids of one site in one batch made a 1,043,587-byte segment."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    events = [gas("plant-a", i * 0.001, i) for i in range(40_000)]
    records = [log.record("rs.events", "plant-a", encode_event_batch(events[i:i + 500]))
               for i in range(0, len(events), 500)]
    run(core.on_batch(records, ALL))
    sizes = [len(v) for v in store.data.values()]
    assert max(sizes) < 1_000_000 and len(store.data) > 2  # several segments, none too big
    again = core_on(store, MemoryOutlet())  # a restarted worker recognises every re-sent id
    resent = log.record("rs.events", "plant-a", encode_event_batch(events[:500]))
    report = run(again.on_batch([resent], ALL))
    assert report.applied == 1 and again.recent.size("plant-a") == 40_000


def test_a_huge_rule_state_is_shed_not_refused_by_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    from riskstream.streams import correlator_core, metrics

    monkeypatch.setattr(correlator_core, "MAX_STATE_BYTES", 20_000)
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    shed = metrics.STATE_SHED.labels("gas-count")
    before = shed._value.get()
    # gas at many points: the count rule keeps one window per point
    events = [make_event(event_id=f"e{i}", site_id="plant-a", point_id=f"p{i}",
                         ts=T0 + timedelta(seconds=i), attrs={"metric": "combustible_gas"})
              for i in range(1000)]
    run(core.on_batch([log.record("rs.events", "plant-a", encode_event_batch(events[i:i + 500]))
                       for i in range(0, 1000, 500)], ALL))
    assert len(store.data[b"plant-a"]) <= 20_000
    assert shed._value.get() > before


def test_a_crash_between_segment_and_state_does_not_lose_the_replayed_events() -> None:
    """Item 3: the recent ids of a batch were stored, its state was not; on the replay the
    batch's events looked like re-sends and never reached the rules."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    first = [log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())]
    run(core.on_batch(first, ALL))
    written = len(store.journal)
    batch = [log.record("rs.events", "plant-a", e.to_json())
             for e in (gas("plant-a", 10, 2), motion("plant-a", 12))]
    run(core.on_batch(batch, ALL))
    segment_writes = [i for i, (k, _) in enumerate(store.journal) if b"\x1f" in k]
    crash_at = segment_writes[-1] + 1  # the segment is stored, the state is not
    assert crash_at < len(store.journal)
    reference = final(alerts_of(outlet))

    survivor = store.replayed_up_to(crash_at)
    assert len(survivor.journal) > written
    outlet2 = MemoryOutlet()
    restarted = core_on(survivor, outlet2)
    run(restarted.on_batch(batch, ALL))  # the uncommitted batch comes again
    assert final(alerts_of(outlet2)) == reference
    assert restarted.recent.seen("plant-a", "plant-a-gas-2")


def test_a_tick_during_a_backlog_does_not_expire_what_the_backlog_extends() -> None:
    """Item 3: after a restart, ticks advanced the site clock by wall time while the events of
    the downtime still waited; windows expired and the late events joined no alert."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    clock = [T0.timestamp()]
    core = core_on(store, outlet, clock)
    run(core.on_batch([log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())], ALL))
    clock[0] += 120  # the worker was down two minutes; the camera saw motion at +30 s
    run(core.on_tick(ALL, caught_up=lambda _p: False))  # the backlog is not read yet
    run(core.on_batch([log.record("rs.events", "plant-a", motion("plant-a", 30).to_json())], ALL))
    assert [a.rule for a in alerts_of(outlet)] == ["gas-and-motion"]

    # caught up, the same wait does expire the window: the clock runs on wall time again
    store2, outlet2, log2 = MemoryStore(PARTS), MemoryOutlet(), Log()
    clock2 = [T0.timestamp()]
    live = core_on(store2, outlet2, clock2)
    run(live.on_batch([log2.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())], ALL))
    clock2[0] += 120
    run(live.on_tick(ALL, caught_up=lambda _p: True))
    run(live.on_batch([log2.record("rs.events", "plant-a", motion("plant-a", 119).to_json())],
                      ALL))
    assert alerts_of(outlet2) == []


def test_an_action_on_another_partition_is_forwarded_and_later_ones_apply() -> None:
    """Item 4: an ack produced with kcat's partitioner landed on partition 3 while the site's
    records are on 1; it was applied there, and the next two acks on 1 were dropped as
    replays (watermark per topic, not per partition), without a word."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    home = partition_of("plant-a", PARTS)
    run(core.on_batch([log.record("rs.events", "plant-a", e.to_json())
                       for e in (gas("plant-a", 0, 1), motion("plant-a", 5))], ALL))
    alert = alerts_of(outlet)[0]
    other = (home + 2) % PARTS
    for _ in range(5):  # give the wrong partition a higher offset than the home one
        log.record("rs.alert-actions", "x", b"{}", partition=other)

    def action(kind: ActionKind, comment: str) -> bytes:
        return AlertAction(alert_id=alert.alert_id, site_id="plant-a", action=kind,
                           by="kcat", comment=comment).to_json()

    stray = log.record("rs.alert-actions", "plant-a", action(ActionKind.COMMENT, "stray"), other)
    report = run(core.on_batch([stray], ALL))
    assert report.forwarded == 1 and report.applied == 0
    forwarded = [m for m in outlet.sent if m.topic == "rs.alert-actions"]
    assert [m.partition for m in forwarded] == [home]
    # Kafka now holds the forwarded copy on the home partition, then two regular acks
    again = log.record("rs.alert-actions", "plant-a", forwarded[0].value, home)
    ack = log.record("rs.alert-actions", "plant-a", action(ActionKind.ACKNOWLEDGE, "seen"))
    note = log.record("rs.alert-actions", "plant-a", action(ActionKind.COMMENT, "crew sent"))
    assert again.offset < stray.offset  # the case the per-topic watermark got wrong
    run(core.on_batch([again, ack, note], ALL))
    latest = alerts_of(outlet)[-1]
    assert latest.revision == alert.revision + 3 and latest.status.value == "acknowledged"
    assert [h.comment for h in latest.lifecycle.history] == ["stray", "seen", "crew sent"]


def test_an_action_delivered_twice_counts_once_and_is_not_a_dead_letter() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    run(core.on_batch([log.record("rs.events", "plant-a", e.to_json())
                       for e in (gas("plant-a", 0, 1), motion("plant-a", 5))], ALL))
    alert = alerts_of(outlet)[0]
    ack = AlertAction(alert_id=alert.alert_id, site_id="plant-a", action=ActionKind.ACKNOWLEDGE,
                      by="duty officer").to_json()
    run(core.on_batch([log.record("rs.alert-actions", "plant-a", ack) for _ in range(2)], ALL))
    assert len(alerts_of(outlet)) == 2 and outlet.on("rs.dlq") == []


def test_records_without_a_key_or_of_an_unknown_site_are_dead_letters_with_reasons() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    forged = make_event(site_id="nowhere")
    records = [Record("rs.events", 0, 0, None, gas("plant-a", 0, 1).to_json()),
               log.record("rs.events", "nowhere", forged.to_json())]
    run(core.on_batch(records, ALL))
    reasons = [orjson.loads(m.value)["reason"] for m in outlet.on("rs.dlq")]
    assert any("no key" in r for r in reasons)
    assert any("not in the deployment config" in r for r in reasons)
    assert alerts_of(outlet) == []


def test_replaying_a_stored_batch_publishes_nothing_new() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    core = core_on(store, outlet)
    batch = [log.record("rs.events", "plant-a", e.to_json())
             for e in (gas("plant-a", 0, 1), motion("plant-a", 5))]
    run(core.on_batch(batch, ALL))
    before = len(outlet.sent)
    report = run(core.on_batch(batch, ALL))
    assert report.replayed == 2 and len(outlet.sent) == before


def test_a_site_state_emptied_by_ticks_keeps_its_replay_watermark() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    clock = [T0.timestamp()]
    core = core_on(store, outlet, clock)
    batch = [log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())]
    run(core.on_batch(batch, ALL))
    clock[0] += 3600
    run(core.on_tick(ALL, caught_up=lambda _p: True))
    state = orjson.loads(store.data[b"plant-a"])
    assert "applied" in state and state.get("rules", {}) == {}
    report = run(core.on_batch(batch, ALL))  # a replay after the windows expired
    assert report.replayed == 1


def test_a_record_faust_delivers_out_of_order_is_applied_not_taken_for_a_replay() -> None:
    """After a rebalance Faust handed over a record past the committed offset before the ones
    below it; the watermark then skipped those as replays (2-15 events missed their alerts)."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    now_ms = int(T0.timestamp() * 1000)
    core = core_on(store, outlet)
    events = [gas("plant-a", i, i) for i in range(4)]
    records = [replace(log.record("rs.events", "plant-a", e.to_json()), timestamp_ms=now_ms)
               for e in events]
    run(core.on_batch([records[3]], ALL))  # the last one first
    report = run(core.on_batch(records[:3], ALL))  # then the ones below it
    assert report.replayed == 0 and report.applied == 3
    (alert,) = final(alerts_of(outlet)).values()
    assert set(alert[1]) >= {e.event_id for e in events[1:]}  # all counted
    again = run(core.on_batch(records, ALL))  # a real replay: every id is known
    assert again.replayed == 4


def test_the_state_is_durable_before_the_batch_is_acknowledged() -> None:
    """A partition that moves to another worker is recovered from the changelog: the state
    must be there before the offsets that stand for it can be committed."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    written_at_flush: list[int] = []

    async def flush() -> None:
        written_at_flush.append(len(store.journal))

    store.flush = flush  # type: ignore[method-assign]
    run(core_on(store, outlet).on_batch(
        [log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())], ALL))
    assert written_at_flush == [len(store.journal)] and store.journal  # after every write


class HeldOutlet(MemoryOutlet):
    """An outlet whose sends wait until ``release`` is set: a batch held in flight."""

    def __init__(self, release: asyncio.Event) -> None:
        super().__init__()
        self._release = release

    async def send(self, messages: Any) -> None:
        await self._release.wait()
        await super().send(messages)


async def held_batch(store: MemoryStore, log: Log, release: asyncio.Event,
                     ) -> tuple[CorrelatorCore, asyncio.Task[Any]]:
    """A core with one batch of plant-a in flight, held in its publish until ``release``."""
    core = CorrelatorCore(config(), store, HeldOutlet(release))
    batch = asyncio.create_task(core.on_batch(
        [log.record("rs.events", "plant-a", gas("plant-a", 0, 1).to_json())], ALL))
    await asyncio.sleep(0.05)
    return core, batch


def test_a_tick_while_partitions_move_publishes_and_writes_nothing() -> None:
    """Item 3: during a rebalance the table holds old or half-recovered site states; a tick
    then republished revision numbers already used, with other content (seen on the real
    stack: 24 conflicting revisions, alerts short of their events)."""
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    moving = [False]
    clock = [T0.timestamp()]
    core = CorrelatorCore(config(), store, outlet, clock=lambda: clock[0],
                          ready=lambda: not moving[0])
    run(core.on_batch([log.record("rs.events", "plant-a", gas("plant-a", 0, n).to_json())
                       for n in range(3)], ALL))
    sent, journal = len(outlet.sent), len(store.journal)
    clock[0] += 3600  # everything has expired: a tick would write and (re)publish
    moving[0] = True
    assert run(core.on_tick(ALL, lambda _p: True)) == 0
    assert (len(outlet.sent), len(store.journal)) == (sent, journal)
    moving[0] = False
    run(core.on_tick(ALL, lambda _p: True))
    assert len(store.journal) > journal  # once settled, the tick does its work


def test_a_batch_waits_for_partitions_to_settle_and_leaves_moved_ones_to_their_owner() -> None:
    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    moving = [True]
    owned = [set(ALL)]
    home_a, home_b = partition_of("plant-a", PARTS), partition_of("plant-b", PARTS)
    assert home_a != home_b

    async def scenario() -> None:
        async def settle() -> None:  # the rebalance ends: plant-b's partition went elsewhere
            await asyncio.sleep(0.2)
            owned[0] = set(ALL) - {home_b}
            moving[0] = False

        core = CorrelatorCore(config(), store, outlet, ready=lambda: not moving[0])
        records = [log.record("rs.events", s, gas(s, 0, 1).to_json())
                   for s in ("plant-a", "plant-b")]
        settling = asyncio.create_task(settle())
        await core.on_batch(records, lambda: owned[0])
        await settling
        assert not moving[0]  # it did not run before the partitions settled

    run(scenario())
    assert b"plant-a" in store.data and b"plant-b" not in store.data


def test_quiesce_waits_for_the_batch_in_flight() -> None:
    """Faust revokes partitions without waiting for our batch (stream_wait_empty=False): the
    revocation must wait until the batch's state is stored, or recovery reads it half done."""
    store, log = MemoryStore(PARTS), Log()
    release = asyncio.Event()
    order: list[str] = []

    async def scenario() -> None:
        core, batch = await held_batch(store, log, release)
        quiet = asyncio.create_task(core.quiesce())
        await asyncio.sleep(0.05)
        order.append("quiesced" if quiet.done() else "waiting")
        release.set()
        await batch
        order.append("stored" if b"plant-a" in store.data else "lost")
        await quiet
        order.append("quiesced")

    run(scenario())
    assert order == ["waiting", "stored", "quiesced"]


def test_a_stopping_worker_finishes_its_batch_then_starts_no_other() -> None:
    """Faust leaves the group on stop without waiting for our batch: seen, a stopping worker's
    last batch stored its state after the new owner had recovered the partition, and its
    offsets were committed, so 16 events were in no alert. ``close`` comes first now."""
    store, log = MemoryStore(PARTS), Log()
    release = asyncio.Event()

    async def scenario() -> tuple[bool, bool, bool]:
        core, first = await held_batch(store, log, release)
        closing = asyncio.create_task(core.close())
        await asyncio.sleep(0.05)
        closed_early = closing.done()
        release.set()
        await closing
        stored = b"plant-a" in store.data
        later = asyncio.create_task(core.on_batch(
            [log.record("rs.events", "plant-b", gas("plant-b", 0, 1).to_json())], ALL))
        await asyncio.sleep(0.2)
        later_ran = later.done() or b"plant-b" in store.data
        later.cancel()
        assert first.done()
        return closed_early, stored, later_ran

    assert run(scenario()) == (False, True, False)


def test_a_long_batch_tells_the_stall_watchdog_it_is_working() -> None:
    """A backlog batch of 1,000 records can hold 20,000 events; on a loaded box two such
    batches took longer than the 30 s stall limit and the worker was restarted for nothing."""
    from riskstream.streams import watchdog

    store, outlet, log = MemoryStore(PARTS), MemoryOutlet(), Log()
    watchdog._activity[0] = 0.0
    records = [log.record("rs.events", "plant-a", gas("plant-a", i, i).to_json()) for i in range(400)]
    run(core_on(store, outlet).on_batch(records, ALL))
    assert watchdog._activity[0] > 0.0
