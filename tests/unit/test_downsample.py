"""Per-second and per-minute reading summaries, with late readings and silent sensors."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from riskstream.sensors.downsample import Downsampler, _Window
from riskstream.sensors.readings import Reading
from tests.unit.test_sensors import GAS

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def reading(at: float, value: float) -> Reading:
    ts = T0 + timedelta(seconds=at)
    return Reading(GAS.id, value, GAS.unit, ts, ts)


def test_second_windows_close_when_the_next_one_starts() -> None:
    ds = Downsampler([GAS])
    assert ds.add(reading(0.1, 5)) == []
    assert ds.add(reading(0.5, 9)) == []
    assert ds.add(reading(0.9, 7)) == []
    (closed,) = ds.add(reading(1.2, 3))
    assert (closed.window_s, closed.ts, closed.count) == (1, T0, 3)
    assert (closed.min, closed.max, closed.mean, closed.last) == (5, 9, 7, 7)
    assert (closed.site_id, closed.metric, closed.unit, closed.point_id) == (
        "plant-a", "combustible_gas", "%LEL", "tank-farm")


def test_minute_windows_and_flush_of_a_silent_sensor() -> None:
    ds = Downsampler([GAS], lateness_s=2)
    out = []
    for i in range(120):
        out += ds.add(reading(i, float(i)))
    minutes = [s for s in out if s.window_s == 60]
    assert [(s.ts, s.count, s.min, s.max, s.last) for s in minutes] == [(T0, 60, 0, 59, 59)]
    assert len([s for s in out if s.window_s == 1]) == 119
    end = int((T0 + timedelta(seconds=120)).timestamp() * 1000)
    assert ds.flush(end) == []  # the 119th second is not 2 s behind yet
    flushed = ds.flush(end + 60_000)
    assert sorted((s.window_s, s.count) for s in flushed) == [(1, 1), (60, 60)]
    assert ds.flush(end + 120_000) == []


def test_late_readings_are_counted_not_folded_into_sent_windows() -> None:
    ds = Downsampler([GAS])
    ds.add(reading(5.5, 1))
    ds.add(reading(6.5, 2))  # closes second 5
    assert ds.add(reading(5.9, 100)) == []
    assert ds.late == 1
    (sec6,) = [s for s in ds.add(reading(7.1, 3)) if s.window_s == 1]
    assert (sec6.max, sec6.count) == (2, 1)


def test_a_snapshot_restores_every_field_of_the_open_windows() -> None:
    """The snapshot lists the window's fields by hand (for speed): a field added to the window
    and not to the snapshot would be lost in a crash."""
    ds = Downsampler([GAS])
    for at, value in ((0.1, 5.0), (0.4, 9.0), (0.3, 7.0)):
        ds.add(reading(at, value))
    text = ds.snapshot(GAS.id)
    again = Downsampler([GAS])
    again.restore(GAS.id, text)
    assert again._open == ds._open and len(ds._open) == 2
    assert all(len(saved) == len(fields(_Window)) for saved in json.loads(text).values())
    assert again.snapshot(GAS.id) == text
