"""The committed-delivery memory that tells a broker's re-sends apart (pure logic)."""

from __future__ import annotations

from riskstream.edge.redelivery import SLOTS, WINDOW, Redeliveries


def test_only_a_dup_of_a_recorded_delivery_with_the_same_bytes_is_a_redelivery() -> None:
    memory = Redeliveries({})
    memory.record(5, "t/a", b"1")
    assert memory.is_redelivery(5, True, "t/a", b"1")
    assert not memory.is_redelivery(5, False, "t/a", b"1")  # not re-sent: a new message
    assert not memory.is_redelivery(5, True, "t/a", b"2")
    assert not memory.is_redelivery(5, True, "t/b", b"1")
    assert not memory.is_redelivery(6, True, "t/a", b"1")


def test_the_memory_survives_through_its_state_entries_and_forgets_beyond_its_window() -> None:
    memory = Redeliveries({}, window=3)
    state = dict(memory.record(mid, "t", str(mid).encode()) for mid in (1, 2, 3, 4))
    again = Redeliveries({**state, "mqtt:7": "x", "mqtt:9": "not three words"}, window=3)
    assert not again.is_redelivery(1, True, "t", b"1")  # four deliveries ago
    assert all(again.is_redelivery(mid, True, "t", str(mid).encode()) for mid in (2, 3, 4))


def test_its_state_rows_are_bounded_whatever_the_packet_ids() -> None:
    memory = Redeliveries({})
    keys = {memory.record(mid, "t", b"v")[0] for mid in range(1, 65536)}
    assert len(keys) == SLOTS
    in_a_row = {memory.record(mid % 65535 + 1, "t", b"v")[0] for mid in range(60000, 60000 + WINDOW)}
    assert len(in_a_row) == WINDOW  # across the wrap of packet ids too
