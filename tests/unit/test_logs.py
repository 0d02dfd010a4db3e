"""Repeated log lines are capped (a 36 s Kafka outage once wrote 269,384 ERROR lines)."""

from __future__ import annotations

import logging

from riskstream.logs import RepeatFilter


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("aiokafka", logging.ERROR, __file__, 1, msg, args, None)


def test_a_repeated_message_passes_a_few_times_per_window_then_says_how_many_were_cut() -> None:
    now = [0.0]
    flt = RepeatFilter(window_s=10, burst=5, clock=lambda: now[0])
    passed = [flt.filter(record("Unable connect to node %s", i)) for i in range(10_000)]
    assert sum(passed) == 5 and flt.suppressed_total == 9_995
    assert flt.filter(record("another problem"))  # other messages are not held back
    now[0] = 10.0
    again = record("Unable connect to node %s", 1)
    assert flt.filter(again) and "[9995 similar lines suppressed]" in again.getMessage()
