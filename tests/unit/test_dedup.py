"""De-duplication: the replay watermark and the persisted recent-id segments (no Kafka)."""

from __future__ import annotations

from riskstream.streams.dedup import RecentIds, mark_applied, replayed, site_of


def test_watermark_recognises_replayed_records_per_topic() -> None:
    assert not replayed(None, "rs.events", 0)
    state = mark_applied({"site": "a"}, "rs.events", 41)
    assert replayed(state, "rs.events", 41) and replayed(state, "rs.events", 3)
    assert not replayed(state, "rs.events", 42)
    assert not replayed(state, "rs.health", 0)  # each topic has its own offsets
    assert mark_applied(state, "rs.events", 7)["applied"]["rs.events"] == 41  # never goes back


def test_recent_ids_persist_as_segments_and_survive_a_rebuild() -> None:
    recent = RecentIds(window_ms=60_000)
    for i in range(3):
        recent.remember("plant", f"id-{i}", 1_000)
    assert recent.seen("plant", "id-1") and not recent.seen("other", "id-1")
    first = recent.seal("plant")
    assert first is not None and site_of(first[0]) == "plant"
    recent.remember("plant", "id-3", 1_000)  # same ms: the next segment still gets its own key
    second = recent.seal("plant")
    assert second is not None and second[0] != first[0]
    assert recent.seal("plant") is None  # nothing new since

    rebuilt = RecentIds(window_ms=60_000)
    rebuilt.load([first, second])
    assert all(rebuilt.seen("plant", f"id-{i}") for i in range(4))
    assert rebuilt.size("plant") == 4


def test_recent_ids_expire_by_whole_segments_and_by_the_cap() -> None:
    recent = RecentIds(window_ms=10_000, max_ids_per_site=5)
    keys = []
    for batch in range(4):
        for i in range(2):
            recent.remember("plant", f"b{batch}-{i}", batch * 4_000)
        seg = recent.seal("plant")
        assert seg is not None
        keys.append(seg[0])
    # 8 ids over a cap of 5: the two oldest segments go, whatever their age
    assert recent.expire(now_ms=12_000) == keys[:2]
    assert not recent.seen("plant", "b0-0") and recent.seen("plant", "b2-0")
    assert recent.expire(now_ms=12_000 + 10_000) == [keys[2]]  # older than the window
    assert recent.expire(now_ms=10**9) == [keys[3]] and recent.size("plant") == 0


def test_an_unreadable_segment_is_skipped_and_counted_not_fatal() -> None:
    recent = RecentIds(window_ms=60_000)
    recent.remember("plant", "id-1", 1_000)
    good = recent.seal("plant")
    assert good is not None
    rebuilt = RecentIds(window_ms=60_000)
    bad = [(b"plant\x1f0000000002000", b"{not json"), (b"no-separator", b"[]"),
           (b"plant\x1fabc", b"[]"), (b"plant\x1f0000000003000", b'{"a": 1}')]
    assert rebuilt.load([good, *bad]) == 4
    assert rebuilt.seen("plant", "id-1") and rebuilt.size("plant") == 1
