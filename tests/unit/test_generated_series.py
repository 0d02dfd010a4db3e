"""Univariate detectors on generated series: the generator makes what it says, and the
evaluation counts false detections on clean series and finds injected anomalies."""

from __future__ import annotations

import numpy as np
import pytest

from riskstream.evaluation import generated_series as g
from riskstream.evaluation.operating_curve import THRESHOLDS, thresholds_for


def test_shapes_and_injections() -> None:
    assert np.ptp(g.clean("flat")) == 0.0
    square = g.clean("square")
    assert set(np.unique(square)) == {0.0, 1.0}
    spiked = g.injected(g.clean("noise"), "spike")
    assert np.flatnonzero(spiked != g.clean("noise")).tolist() == [g.ONSET]
    day = g.injected(g.clean("daily"), "flat_day")
    assert np.ptp(day[g.ONSET:g.ONSET + g.DAY]) == 0.0


def test_whole_day_anomalies_change_that_day_only() -> None:
    peaked, day = g.clean("peaked"), g.ANOMALOUS_DAY
    assert day.start <= g.ONSET < day.stop and day.start % g.DAY == 0
    for kind in ("jump_up", "jump_down", "no_peak"):
        changed = np.flatnonzero(g.injected(peaked, kind) != peaked)
        assert changed.min() >= day.start and changed.max() < day.stop, kind
    tops = {k: g.injected(peaked, k)[day].max() for k in ("jump_up", "jump_down", "no_peak")}
    assert tops["jump_up"] > peaked[day].max() > tops["jump_down"] > tops["no_peak"]
    assert tops["no_peak"] < 35  # night level and noise only
    spiky = g.clean("spiky")
    dense = g.injected(spiky, "spike_density")
    assert np.flatnonzero(dense != spiky).min() >= day.start
    assert (dense[day] > 14).mean() > 4 * (spiky[: day.start] > 14).mean()


def test_the_shapes_read_off_nabs_artificial_files() -> None:
    """``uniform`` as art_noisy (8 to 19); ``blocks`` as art_daily_small_noise (20 at night, 68
    from 9:00, 79.5 from 10:00 to 18:00, 32, 22, each +-10 %); its anomalous days change that
    day only: the rise 2.2 times as high, half as high, or missing."""
    uniform = g.clean("uniform")
    assert uniform.min() >= 8.0 and uniform.max() <= 19.0 and abs(uniform.mean() - 13.5) < 0.3
    blocks, hour = g.clean("blocks"), (np.arange(g.N) % g.DAY) // 12
    for h, level in ((3, 20.0), (9, 68.0), (14, 79.5), (18, 32.0), (19, 22.0), (23, 20.0)):
        at = blocks[hour == h]
        assert level * 0.9 <= at.min() and at.max() <= level * 1.1, h
    day = g.ANOMALOUS_DAY
    noon = {k: float(np.median(g.injected(blocks, k)[day][hour[day] == 12]))
            for k in ("day_up", "day_down", "no_rise")}
    assert noon["day_up"] > 150 and 45 < noon["day_down"] < 55 and noon["no_rise"] < 22
    for kind in noon:
        changed = np.flatnonzero(g.injected(blocks, kind) != blocks)
        assert changed.min() >= day.start and changed.max() < day.stop, kind
    pulses = g.clean("pulses")  # art_increase_spike_density: pairs 6 apart every 100 rows
    assert set(np.unique(pulses)) == {0.0, 20.0}
    assert np.flatnonzero(pulses[:300]).tolist() == [0, 6, 100, 106, 200, 206]
    burst = np.flatnonzero(g.injected(pulses, "burst"))
    assert burst[(burst >= g.ONSET) & (burst < g.ONSET + 20)].tolist() == [
        g.ONSET, g.ONSET + 5, g.ONSET + 6, g.ONSET + 10, g.ONSET + 15]  # its labelled window


def test_short_series_are_injected_a_quarter_in() -> None:
    short = [c for c in g.cases() if c.shape.endswith("-short")]
    assert {len(c.values) for c in short} == {g.SHORT_N}
    spike = next(c for c in short if c.name == "noise-short/spike")
    clean = next(c for c in short if c.name == "noise-short/none")
    assert np.flatnonzero(spike.values != clean.values).tolist() == [g.SHORT_ONSET]


def test_judging_counts_after_probation_and_within_the_window() -> None:
    hits = np.zeros(g.N, dtype=bool)
    hits[10] = True  # in probation: not counted
    hits[g.ONSET + 5] = True
    values = np.zeros(g.N)
    assert g._judge(hits, g.Case("noise", "none", values)) == {"false_detections": 1}
    assert g._judge(hits, g.Case("noise", "spike", values)) == {
        "detected": True, "delay_rows": 5, "false_detections_before": 0}
    late = np.zeros(g.N, dtype=bool)
    late[g.ANOMALOUS_DAY.stop + 10] = True  # after a whole anomalous day: within its window
    day = g.Case("peaked", "no_peak", values, g.ANOMALOUS_DAY.start, g.ANOMALOUS_DAY.stop - 1)
    assert g._judge(late, day)["detected"] and not g._judge(late, g.Case("noise", "spike", values))[
        "detected"]


def test_the_evaluation_runs_every_detector_on_each_case() -> None:
    """Four cases (the whole set is `riskstream eval generated`, about 7.5 minutes on 2 cores)."""
    picked = {"flat/spike", "flat/none", "noise/none", "daily/none"}
    r = g.evaluate(only=picked)
    assert set(r["series"]) == picked and picked <= {c.name for c in g.cases()}
    flat = r["series"]["flat/spike"]
    assert flat["ours"]["detected"] and flat["baseline"]["detected"]  # a spike on a flat line
    assert r["series"]["flat/none"]["ours"]["false_detections"] == 0
    quiet, ours = r["quiet_variant"], r["detector"]
    assert quiet["false_detections_on_clean_series"] <= ours["false_detections_on_clean_series"]
    assert ours["false_detections_on_clean_series"] == sum(
        r["series"][name]["ours"]["false_detections"] for name in picked if name.endswith("/none"))


def test_clean_shapes_over_seeds_count_per_shape_and_after_the_memory_fills() -> None:
    r = g.clean_over_seeds(range(2), ("flat", "noise"))
    assert r["series"] == 4 and r["seeds"] == "0-1" and r["memory_full_at_row"] == 3000
    for who in ("ours", "quiet", "baseline"):
        d = r[who]
        assert d["per_shape"]["flat"] == 0  # nothing to find on a flat line
        assert d["false_detections"] == sum(d["per_shape"].values())
        assert d["after_memory_full"] <= d["false_detections"] and d["series_with_any"] <= 4
    assert r["ours"]["per_shape"]["noise"] >= 1  # seed 0's noise: the one shown in the table


def test_injected_cases_over_seeds_say_which_are_missed_and_how_often(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The short noise series' spike (v3 missed it in every draw) over two more draws."""
    every = g.cases

    def spike_only(seed: int = 0) -> list[g.Case]:
        return [c for c in every(seed) if c.name in {"noise-short/spike", "noise-short/none"}]

    noise = [next(c.values for c in every(seed) if c.name == "noise/none") for seed in (1, 2)]
    assert not np.array_equal(*noise)  # each seed its own noise
    monkeypatch.setattr(g, "cases", spike_only)
    r = g.injected_over_seeds(range(1, 3))
    assert r["cases"] == 2 and r["seeds"] == "1-2"
    assert (r["ours"]["found"], r["ours"]["missed"]) == (2, {})
    assert r["ours"]["operating_curve"]["0.66"] == 2  # the curve at the deployed threshold
    for who in ("quiet", "baseline"):
        assert r[who]["found"] + sum(r[who]["missed"].values()) == 2


def test_long_clean_series_are_counted_once_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The long-run figure counts only rows from SETTLED_AT; its series extend the usual ones."""
    assert np.array_equal(g.clean("noise", 3, 6000)[: g.N], g.clean("noise", 3))
    monkeypatch.setattr(g, "LONG_ROWS", 5400)
    r = g.long_run_clean(seeds=range(1), shapes=("flat",))
    assert (r["rows_each"], r["counted_from_row"], r["series"]) == (5400, g.SETTLED_AT, 1)
    for who in ("ours", "quiet", "baseline"):
        curve = r[who].pop("operating_curve_per_10000_rows")
        assert r[who] == {"false_detections": 0, "per_shape": {"flat": 0}, "per_10000_rows": {"flat": 0.0}}
        assert set(curve.values()) <= {0.0} and bool(curve) == (who != "baseline")
    rows = np.zeros(5400, dtype=bool)
    rows[[g.SETTLED_AT - 1, g.SETTLED_AT, 5399]] = True  # one before settling: not counted
    monkeypatch.setattr(g, "_fired", lambda *_: {th: rows for th in (*THRESHOLDS, 0.66, 1.0)})
    r = g.long_run_clean(seeds=range(2), shapes=("noise",))
    assert r["ours"]["per_shape"] == {"noise": 4}  # 2 each in 2 series
    rate = round(10_000 * 4 / (2 * (5400 - g.SETTLED_AT)), 2)
    assert r["ours"]["per_10000_rows"] == {"noise": rate}
    assert r["ours"]["operating_curve_per_10000_rows"]["0.9"] == rate


def test_the_operating_curve_counts_each_threshold_from_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raising the threshold drops what fires only below it, on the clean series and among the
    injected anomalies found; the curve at the deployed threshold is the headline figure."""
    def fired(who: str, values: np.ndarray) -> dict[float, np.ndarray]:
        low = np.zeros(len(values), dtype=bool)
        low[[1000, 2000]] = True  # fires at low thresholds only
        high = np.zeros(len(values), dtype=bool)
        high[3000] = True  # fires at every threshold
        return {th: (low | high) if th < 0.7 else high for th in (*THRESHOLDS, 0.66, 1.0)}

    monkeypatch.setattr(g, "_fired", fired)
    r = g.clean_over_seeds(seeds=range(1), shapes=("noise",))
    curve = r["ours"]["operating_curve"]
    assert (curve["0.5"], curve["0.68"], curve["0.7"], curve["0.9"]) == (3, 3, 1, 1)
    assert curve["0.66"] == r["ours"]["false_detections"] == 3
    assert r["baseline"]["operating_curve"] == {}
    assert list(curve) == sorted(curve, key=float)  # thresholds in order, the quiet's too
    assert list(r["quiet"]["operating_curve"]) == list(curve)


def test_the_curve_sweeps_only_where_learning_does_not_change() -> None:
    """Below ``learn_below`` a lower threshold also changes what is learned: not swept."""
    cfg = g.DETECTOR.threshold
    assert cfg.learn_below is not None
    swept = thresholds_for(cfg)
    assert min(swept) >= cfg.learn_below and cfg.threshold in swept
    assert thresholds_for(cfg.model_copy(update={"learn_below": None, "threshold": 0.7}))[0] == 0.7
