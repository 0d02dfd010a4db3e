"""Univariate detectors on series generated here: no labels to tune on, known answers.

Four clean shapes (flat, noise, daily cycle, square wave), 4,000 rows each (two weeks at
5-minute steps), are scored as they are and with one injected anomaly at 70 % of the series
(a spike of 8 standard deviations of the series, a level shift of 3, or, for the daily cycle,
one day flat). NAB's rules: the first 15 % is probation and not scored; a clean series should
have no detection; an injected anomaly counts as detected when a detection falls within 2 %
of the series (80 rows) after it. The same fixed thresholds as on NAB, never tuned here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from riskstream.evaluation.nab import BASELINE_THRESHOLD, DETECTOR_THRESHOLD, ours
from riskstream.evaluation.nab_scoring import probation_rows
from riskstream.models.base import OnlineDetector
from riskstream.models.streaming import WindowedGaussian
from riskstream.models.thresholding import ThresholdConfig, ThresholdFilter, detections, run_online

N = 4000
ONSET = int(0.7 * N)
WINDOW = int(0.02 * N)
DAY = 288  # 5-minute steps


def clean(shape: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    if shape == "flat":
        return np.full(N, 10.0)
    if shape == "noise":
        return rng.normal(50.0, 5.0, N)
    if shape == "daily":
        return 50.0 + 20.0 * np.sin(2 * np.pi * t / DAY) + rng.normal(0.0, 1.0, N)
    if shape == "square":
        return np.where((t // 200) % 2 == 0, 0.0, 1.0)
    raise ValueError(f"unknown shape {shape!r}")


SHAPES = ("flat", "noise", "daily", "square")


def injected(series: np.ndarray, kind: str) -> np.ndarray:
    out = series.copy()
    spread = float(np.std(series)) or 1.0
    if kind == "spike":
        out[ONSET] += 8.0 * spread
    elif kind == "level_shift":
        out[ONSET:] += 3.0 * spread
    elif kind == "flat_day":
        out[ONSET:ONSET + DAY] = float(np.mean(series))
    else:
        raise ValueError(f"unknown anomaly {kind!r}")
    return out


def cases() -> list[tuple[str, str, np.ndarray]]:
    """(shape, anomaly or "none", values)."""
    out = []
    for shape in SHAPES:
        base = clean(shape)
        out.append((shape, "none", base))
        for kind in ("spike", "level_shift") + (("flat_day",) if shape == "daily" else ()):
            out.append((shape, kind, injected(base, kind)))
    return out


def _hits(make: Callable[[], OnlineDetector], values: np.ndarray, ours: bool) -> np.ndarray:
    if ours:
        gate = ThresholdFilter(ThresholdConfig(threshold=DETECTOR_THRESHOLD.threshold))
        scores = run_online(make(), values.tolist(), gate)
        return np.asarray(detections(scores, DETECTOR_THRESHOLD), dtype=bool)
    baseline_gate = ThresholdFilter(ThresholdConfig(threshold=BASELINE_THRESHOLD))
    scores = run_online(make(), values.tolist(), baseline_gate)
    return np.asarray(scores) >= BASELINE_THRESHOLD


def _judge(hits: np.ndarray, anomaly: str) -> dict[str, Any]:
    start = probation_rows(N)
    if anomaly == "none":
        return {"false_detections": int(hits[start:].sum())}
    found = np.flatnonzero(hits[ONSET:ONSET + WINDOW + 1])
    return {"detected": bool(found.size), "delay_rows": int(found[0]) if found.size else None,
            "false_detections_before": int(hits[start:ONSET].sum())}


def evaluate() -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for shape, anomaly, values in cases():
        rows[f"{shape}/{anomaly}"] = {
            "ours": _judge(_hits(ours, values, True), anomaly),
            "baseline": _judge(_hits(WindowedGaussian, values, False), anomaly)}

    def summary(who: str) -> dict[str, Any]:
        clean_rows = [r[who] for k, r in rows.items() if k.endswith("/none")]
        hit_rows = [r[who] for k, r in rows.items() if not k.endswith("/none")]
        return {"false_detections_on_clean_series": sum(r["false_detections"] for r in clean_rows),
                "injected_detected": f"{sum(r['detected'] for r in hit_rows)}/{len(hit_rows)}",
                "false_detections_before_injected": sum(r["false_detections_before"]
                                                        for r in hit_rows)}

    return {"dataset": f"generated series ({len(SHAPES)} shapes x clean and injected, {N} rows)",
            "detector": {"name": ours().name, **summary("ours")},
            "baseline": {"name": WindowedGaussian.name, **summary("baseline")},
            "series": rows}
