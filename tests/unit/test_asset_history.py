"""Asset training rows from stored summaries: complete buckets only, in the asset's order."""

from __future__ import annotations

from riskstream.storage.asset_history import pivot


def test_complete_buckets_in_sensor_order_and_incomplete_ones_counted() -> None:
    records = [(2, "b", 20.0), (1, "b", 10.0), (1, "a", 1.0), (2, "a", 2.0), (3, "a", 3.0),
               (1, "other", 99.0)]
    h = pivot(records, ["a", "b"])
    assert h.rows.tolist() == [[1.0, 10.0], [2.0, 20.0]]
    assert (h.buckets, h.incomplete) == (3, 1)


def test_no_history_is_an_empty_table_of_the_right_width() -> None:
    h = pivot([], ["a", "b", "c"])
    assert h.rows.shape == (0, 3) and h.incomplete == 0
