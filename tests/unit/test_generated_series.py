"""Univariate detectors on generated series: the generator makes what it says, and the
evaluation counts false detections on clean series and finds injected anomalies."""

from __future__ import annotations

import numpy as np

from riskstream.evaluation import generated_series as g


def test_shapes_and_injections() -> None:
    assert np.ptp(g.clean("flat")) == 0.0
    square = g.clean("square")
    assert set(np.unique(square)) == {0.0, 1.0}
    spiked = g.injected(g.clean("noise"), "spike")
    assert np.flatnonzero(spiked != g.clean("noise")).tolist() == [g.ONSET]
    day = g.injected(g.clean("daily"), "flat_day")
    assert np.ptp(day[g.ONSET:g.ONSET + g.DAY]) == 0.0


def test_judging_counts_after_probation_and_within_the_window() -> None:
    hits = np.zeros(g.N, dtype=bool)
    hits[10] = True  # in probation: not counted
    hits[g.ONSET + 5] = True
    assert g._judge(hits, "none") == {"false_detections": 1}
    assert g._judge(hits, "spike") == {"detected": True, "delay_rows": 5,
                                       "false_detections_before": 0}


def test_the_evaluation_runs_both_detectors_on_every_case() -> None:
    r = g.evaluate()
    assert len(r["series"]) == len(g.cases())
    flat = r["series"]["flat/spike"]
    assert flat["ours"]["detected"] and flat["baseline"]["detected"]  # a spike on a flat line
    assert r["series"]["flat/none"]["ours"]["false_detections"] == 0
