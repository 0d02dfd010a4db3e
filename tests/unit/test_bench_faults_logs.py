"""The fault benchmark's log figures count what they say: lines, and librdkafka's raw ones."""

from __future__ import annotations

from pathlib import Path

from benchmarks.faults import worker_log_lines
from riskstream.launch import RiskstreamProcess


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
