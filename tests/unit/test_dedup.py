"""De-duplication: the replay watermark and the persisted recent-id segments (no Kafka)."""

from __future__ import annotations

import orjson

from riskstream.streams.dedup import RecentIds, covers, mark_applied, replayed, site_of


def test_watermark_recognises_replayed_records_per_topic_partition() -> None:
    assert not replayed(None, "rs.events", 1, 0)
    state = mark_applied({"site": "a"}, "rs.events", 1, 41)
    assert replayed(state, "rs.events", 1, 41) and replayed(state, "rs.events", 1, 3)
    assert not replayed(state, "rs.events", 1, 42)
    assert not replayed(state, "rs.health", 1, 0)  # each topic has its own offsets
    assert not replayed(state, "rs.events", 3, 0)  # and each partition
    assert mark_applied(state, "rs.events", 1, 7)["applied"]["rs.events/1"] == 41  # never back


def test_recent_ids_persist_as_segments_and_survive_a_rebuild() -> None:
    recent = RecentIds(window_ms=60_000)
    for i in range(3):
        recent.remember("plant", f"id-{i}", 1_000)
    assert recent.seen("plant", "id-1") and not recent.seen("other", "id-1")
    first = recent.seal("plant", {"rs.events/0": 5})
    assert len(first) == 1 and site_of(first[0][0]) == "plant"
    recent.remember("plant", "id-3", 1_000)  # same ms: the next segment still gets its own key
    second = recent.seal("plant", {"rs.events/0": 6})
    assert second[0][0] != first[0][0]
    assert recent.seal("plant", {}) == []  # nothing new since

    rebuilt = RecentIds(window_ms=60_000)
    rebuilt.load([*first, *second], lambda _site: {"rs.events/0": 6})
    assert all(rebuilt.seen("plant", f"id-{i}") for i in range(4))
    assert rebuilt.size("plant") == 4


def test_a_segment_ahead_of_the_stored_state_is_dropped_at_load() -> None:
    recent = RecentIds(window_ms=60_000)
    recent.remember("plant", "id-0", 1_000)
    stored = recent.seal("plant", {"rs.events/0": 5})
    recent.remember("plant", "id-1", 2_000)
    never_applied = recent.seal("plant", {"rs.events/0": 9})
    rebuilt = RecentIds(window_ms=60_000)
    report = rebuilt.load([*stored, *never_applied], lambda _site: {"rs.events/0": 5})
    assert rebuilt.seen("plant", "id-0") and not rebuilt.seen("plant", "id-1")
    assert report.ahead == [never_applied[0][0]]
    assert covers({"a/0": 3}, {"a/0": 3}) and not covers({"a/0": 3}, {"a/0": 3, "b/0": 0})


def test_a_large_batch_seals_into_segments_bounded_in_bytes() -> None:
    recent = RecentIds(window_ms=60_000, max_segment_bytes=10_000)
    for i in range(5_000):
        recent.remember("plant", f"01JDZ{i:021d}", 1_000)
    segments = recent.seal("plant", {"rs.events/0": 1})
    assert len(segments) > 10 and all(len(v) <= 10_000 for _, v in segments)
    assert sum(len(orjson.loads(v)["ids"]) for _, v in segments) == 5_000
    assert len({k for k, _ in segments}) == len(segments)


def test_recent_ids_expire_by_whole_segments_and_by_the_cap() -> None:
    recent = RecentIds(window_ms=10_000, max_ids_per_site=5)
    keys = []
    for batch in range(4):
        for i in range(2):
            recent.remember("plant", f"b{batch}-{i}", batch * 4_000)
        seg = recent.seal("plant", {})
        assert len(seg) == 1
        keys.append(seg[0][0])
    # 8 ids over a cap of 5: the two oldest segments go, whatever their age
    assert recent.expire(now_ms=12_000) == keys[:2]
    assert not recent.seen("plant", "b0-0") and recent.seen("plant", "b2-0")
    assert recent.expire(now_ms=12_000 + 10_000) == [keys[2]]  # older than the window
    assert recent.expire(now_ms=10**9) == [keys[3]] and recent.size("plant") == 0


def test_an_unreadable_segment_is_skipped_and_counted_not_fatal() -> None:
    recent = RecentIds(window_ms=60_000)
    recent.remember("plant", "id-1", 1_000)
    good = recent.seal("plant", {})
    rebuilt = RecentIds(window_ms=60_000)
    bad = [(b"plant\x1f0000000002000", b"{not json"), (b"no-separator", b"[]"),
           (b"plant\x1fabc", b"[]"), (b"plant\x1f0000000003000", b'{"a": 1}')]
    assert rebuilt.load([*good, *bad], lambda _site: {}).unreadable == 4
    assert rebuilt.seen("plant", "id-1") and rebuilt.size("plant") == 1
