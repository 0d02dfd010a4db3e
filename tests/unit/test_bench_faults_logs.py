"""The fault benchmark's log figures count what they say: lines, and librdkafka's raw ones."""

from __future__ import annotations

from pathlib import Path

from benchmarks.faults import worker_log_lines
from riskstream.launch import RiskstreamProcess
from riskstream.sensors.downsample import Downsampler
from riskstream.testing import one_second_counts
from tests.unit.test_downsample import reading
from tests.unit.test_sensors import GAS


def test_raw_librdkafka_lines_are_told_apart_from_logged_ones(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(
        "%3|1796691853.308|FAIL|rdkafka#consumer-2| [thrd:x]: Connect failed\n"
        "%3|1796691853.360|FAIL|rdkafka#consumer-2| [thrd:x]: Connect failed\n"
        "2026-12-08T01:04:03 ERROR librdkafka: FAIL [rdkafka#consumer-3] Connect failed\n")
    edge_log = tmp_path / "edge.log"
    edge_log.write_text("%3|1.0|FAIL|rdkafka#producer-1| not a worker's\n")
    procs = [RiskstreamProcess("worker", 1, 0, log), RiskstreamProcess("edge", 2, 0, edge_log)]
    assert worker_log_lines(procs) == (3, 2)


def test_the_edge_readings_are_counted_once_per_window_however_often_a_summary_is_sent() -> None:
    """What benchmarks.faults and the edge durability tests count: a summary the forwarder
    re-sent is the same summary; minute windows hold the same readings again."""
    ds = Downsampler([GAS])
    out = []
    for i in range(25):
        out += ds.add(reading(i * 0.1, 10.0))
    out += ds.flush(10**13)
    values = [s.to_json() for s in out]
    assert {s.window_s for s in out} == {1, 60}
    assert sum(one_second_counts(values + values[:2]).values()) == 25
