"""Univariate detectors on series generated here: no labels to tune on, known answers.

Clean shapes, 4,000 rows each (two weeks at 5-minute steps): flat, noise, a daily sine cycle
without noise (``smooth``, as NAB's art_daily_no_noise) and with it, a square wave, ``peaked``
(a quiet night and one narrow afternoon peak a day, noise of 2 on a peak of 60), ``spiky`` (a
level of 10 with a spike of +5 to +10 on 2 % of rows), and three read off NAB's public
artificial files: ``uniform`` (independent uniform noise between 8 and 19, as art_noisy),
``blocks`` (the daily profile of art_daily_small_noise and of the jumps files: 20 at night, 68
from 9:00, 79.5 from 10:00 to 18:00, 32 and 22 in the two evening hours, each times uniform
noise of +-10 %) and ``pulses`` (art_increase_spike_density: 0, and a pair of 20s six rows
apart every 100 rows, no noise). Each is scored as it is and with injected anomalies:

- at 70 % of the series: a spike of 8 standard deviations of the series, a level shift of 3,
  or, for the daily cycles, one day flat (on ``blocks``, the kind of art_daily_flatmiddle, whose
  exact shape was not read); detected within 2 % of the series (80 rows); on
  ``pulses``, a burst instead (three more 20s 5, 10 and 15 rows after a pair's first, as the
  spikes in art_increase_spike_density's labelled window);
- a whole anomalous day (the day holding 70 %): on ``peaked`` the peak jumps up (90), jumps
  down (35) or is missing; on ``blocks`` the day's rise above the night level is 2.2 times as
  high (as art_daily_jumpsup's anomalous day), half as high, or missing (the day stays at
  night level); on ``spiky`` the spikes come on 25 % of rows; detected from that day's start
  to 80 rows past its end.

Short series (``-short``): 1,600 rows (NAB's AdExchange files are this long), the first 1,600
rows of flat, noise, daily and square, injected at row 400, a quarter in, where a detector
with a long warm-up is still learning.

NAB's rules: the first 15 % is probation and not scored; a clean series should have no
detection. The same fixed thresholds as on NAB, never tuned here. The seeded and long series
are also counted at each threshold of the operating curve (see
:mod:`riskstream.evaluation.operating_curve`), to be read beside NAB's at the same thresholds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskstream.detectors import KnnLikelihoodSpec
from riskstream.evaluation.nab import BASELINE_THRESHOLD, DETECTOR, QUIET, detection_starts, ours, quiet
from riskstream.evaluation.nab_scoring import probation_rows
from riskstream.evaluation.operating_curve import key, thresholds_for
from riskstream.models.base import OnlineDetector
from riskstream.models.sensor_rules import Sample
from riskstream.models.streaming import WindowedGaussian
from riskstream.models.thresholding import ThresholdConfig, ThresholdFilter, run_online

N = 4000
ONSET = int(0.7 * N)
WINDOW = int(0.02 * N)
DAY = 288  # 5-minute steps
STEP_S = 300.0
SHORT_N, SHORT_ONSET = 1600, 400


@dataclass(frozen=True, slots=True)
class Case:
    shape: str
    anomaly: str  # "none" for a clean series
    values: np.ndarray
    onset: int = ONSET
    end: int = ONSET  # the last anomalous row a detection may follow by up to WINDOW rows

    @property
    def name(self) -> str:
        return f"{self.shape}/{self.anomaly}"


def _peak(t: np.ndarray) -> np.ndarray:
    """One narrow afternoon peak a day, 0 at night and 1 at its top."""
    phase = (t % DAY) / DAY
    return np.asarray(np.exp(-(((phase - 0.6) / 0.12) ** 2)))


_BLOCK_HOURS = (9, 10, 18, 19, 20)  # where art_daily_small_noise's level changes, by hour of day
_BLOCK_LEVELS = (20.0, 68.0, 79.5, 32.0, 22.0)  # the level up to each of those hours; 20 after
NIGHT = 20.0
PULSE_EVERY, PULSE_GAP = 100, 6  # art_increase_spike_density's pairs: every 100 rows, 6 apart


def _blocks(t: np.ndarray) -> np.ndarray:
    """The blocks profile's level at each row (NAB's art_daily_* files, read off by hour)."""
    hour = (t % DAY) // (DAY // 24)
    conditions = [hour < h for h in _BLOCK_HOURS]
    return np.asarray(np.select(conditions, _BLOCK_LEVELS, NIGHT), dtype=np.float64)


def clean(shape: str, seed: int = 0, n: int = N) -> np.ndarray:
    """``shape`` over ``n`` rows, its noise drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if shape == "flat":
        return np.full(n, 10.0)
    if shape == "noise":
        return rng.normal(50.0, 5.0, n)
    if shape == "smooth":  # NAB's art_daily_no_noise: each day repeats, but for rounding
        return 50.0 + 20.0 * np.sin(2 * np.pi * t / DAY)
    if shape == "daily":
        return 50.0 + 20.0 * np.sin(2 * np.pi * t / DAY) + rng.normal(0.0, 1.0, n)
    if shape == "square":
        return np.where((t // 200) % 2 == 0, 0.0, 1.0)
    if shape == "peaked":
        return 20.0 + 60.0 * _peak(t) + rng.normal(0.0, 2.0, n)
    if shape == "pulses":
        firsts = np.arange(0, n, PULSE_EVERY)
        out = np.zeros(n)
        out[firsts] = out[firsts[firsts + PULSE_GAP < n] + PULSE_GAP] = 20.0
        return out
    if shape == "uniform":
        return rng.uniform(8.0, 19.0, n)
    if shape == "blocks":
        return _blocks(t) * rng.uniform(0.9, 1.1, n)
    if shape == "spiky":
        out = rng.normal(10.0, 1.0, n)
        spikes = rng.random(n) < 0.02
        out[spikes] += rng.uniform(5.0, 10.0, int(spikes.sum()))
        return out
    raise ValueError(f"unknown shape {shape!r}")


SHAPES = ("flat", "noise", "uniform", "smooth", "daily", "square", "peaked", "blocks", "spiky",
          "pulses")
SHORT_SHAPES = ("flat", "noise", "daily", "square")
ANOMALOUS_DAY = slice(ONSET - ONSET % DAY, ONSET - ONSET % DAY + DAY)


def injected(series: np.ndarray, kind: str, onset: int = ONSET, seed: int = 1) -> np.ndarray:
    out = series.copy()
    spread = float(np.std(series)) or 1.0
    rng = np.random.default_rng(seed)
    day = ANOMALOUS_DAY
    t = np.arange(day.start, day.stop)
    if kind == "spike":
        out[onset] += 8.0 * spread
    elif kind == "level_shift":
        out[onset:] += 3.0 * spread
    elif kind == "flat_day":
        out[onset:onset + DAY] = float(np.mean(series))
    elif kind in ("jump_up", "jump_down", "no_peak"):
        height = {"jump_up": 90.0, "jump_down": 35.0, "no_peak": 0.0}[kind]
        out[day] = 20.0 + height * _peak(t) + rng.normal(0.0, 2.0, DAY)
    elif kind in ("day_up", "day_down", "no_rise"):
        rise = {"day_up": 2.2, "day_down": 0.5, "no_rise": 0.0}[kind]
        out[day] = (NIGHT + rise * (_blocks(t) - NIGHT)) * rng.uniform(0.9, 1.1, DAY)
    elif kind == "burst":
        out[onset + np.array([5, 10, 15])] = 20.0
    elif kind == "spike_density":
        dense = rng.random(DAY) < 0.25
        out[t[dense]] += rng.uniform(5.0, 10.0, int(dense.sum()))
    else:
        raise ValueError(f"unknown anomaly {kind!r}")
    return out


_ANOMALIES = {"flat": ("spike", "level_shift"), "noise": ("spike", "level_shift"),
              "uniform": ("spike", "level_shift"),
              "blocks": ("spike", "level_shift", "flat_day", "day_up", "day_down", "no_rise"),
              "smooth": ("spike", "level_shift", "flat_day"),
              "daily": ("spike", "level_shift", "flat_day"), "square": ("spike", "level_shift"),
              "peaked": ("jump_up", "jump_down", "no_peak"), "spiky": ("spike_density",),
              "pulses": ("burst",)}
_WHOLE_DAY = {"jump_up", "jump_down", "no_peak", "day_up", "day_down", "no_rise", "spike_density"}


def cases(seed: int = 0) -> list[Case]:
    """Each shape clean and with its anomalies injected, the noise drawn with ``seed``."""
    out = []
    for shape in SHAPES:
        base = clean(shape, seed)
        out.append(Case(shape, "none", base))
        for kind in _ANOMALIES[shape]:
            if kind in _WHOLE_DAY:
                out.append(Case(shape, kind, injected(base, kind), ANOMALOUS_DAY.start,
                                ANOMALOUS_DAY.stop - 1))
            else:
                out.append(Case(shape, kind, injected(base, kind)))
    for shape in SHORT_SHAPES:
        base = clean(shape, seed)[:SHORT_N]
        out.append(Case(f"{shape}-short", "none", base, SHORT_ONSET, SHORT_ONSET))
        for kind in ("spike", "level_shift"):
            out.append(Case(f"{shape}-short", kind, injected(base, kind, SHORT_ONSET),
                            SHORT_ONSET, SHORT_ONSET))
    return out


def samples(values: np.ndarray) -> list[Sample]:
    """The series as timestamped samples, one every 5 minutes from midnight (UTC) of day 0."""
    return [Sample(i * STEP_S, float(v)) for i, v in enumerate(values)]


def _own_threshold(who: str) -> float:
    """The threshold ``who`` is deployed at (its filter's, or the baseline's)."""
    spec = _detectors()[who][1]
    return spec.threshold.threshold if spec is not None else BASELINE_THRESHOLD


def _fired(who: str, values: np.ndarray) -> dict[float, np.ndarray]:
    """Where ``who``'s detections start (a flag per row): through its filter as deployed, at
    its own threshold and at each threshold of the operating curve, all from one run (see
    :mod:`riskstream.evaluation.operating_curve`); the baseline, every point at its threshold."""
    make, spec = _detectors()[who]
    if spec is None:
        baseline_gate = ThresholdFilter(ThresholdConfig(threshold=BASELINE_THRESHOLD))
        baseline = run_online(make(), values.tolist(), baseline_gate)
        return {BASELINE_THRESHOLD: np.asarray(baseline) >= BASELINE_THRESHOLD}
    scores = np.asarray(run_online(make(), samples(values), ThresholdFilter(spec.threshold)))
    out = {}
    for th in thresholds_for(spec.threshold):  # the filter's detections, from its rising edges
        hits = np.zeros(len(scores), dtype=bool)
        hits[detection_starts(scores, th, spec.threshold)] = True
        out[th] = hits
    return out


def _curve(who: str, count: Callable[[float], float]) -> dict[str, float]:
    """``count`` at each threshold of ``who``'s operating curve (none for the baseline)."""
    spec = _detectors()[who][1]
    return {} if spec is None else {key(th): count(th) for th in thresholds_for(spec.threshold)}


def _fired_total(by_threshold: dict[tuple[str, str, int], dict[float, np.ndarray]],
                 who: str) -> Callable[[float], float]:
    """How many detections ``who`` made over all its series at a threshold."""
    def total(th: float) -> float:
        return sum(at[th].size for job, at in by_threshold.items() if job[0] == who)
    return total


def _judge(hits: np.ndarray, case: Case) -> dict[str, Any]:
    start = probation_rows(len(hits))
    if case.anomaly == "none":
        return {"false_detections": int(hits[start:].sum())}
    found = np.flatnonzero(hits[case.onset:case.end + WINDOW + 1])
    return {"detected": bool(found.size), "delay_rows": int(found[0]) if found.size else None,
            "false_detections_before": int(hits[start:case.onset].sum())}


SEEDS = range(8)


def _detectors() -> dict[str, tuple[Callable[[], OnlineDetector], KnnLikelihoodSpec | None]]:
    return {"ours": (ours, DETECTOR), "quiet": (quiet, QUIET), "baseline": (WindowedGaussian, None)}


def _in_parallel(fn: Callable[[Any], Any], jobs: Iterable[Any]) -> list[Any]:
    """``fn`` over ``jobs`` in order, one process per core (each series is independent)."""
    jobs = list(jobs)
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return [fn(job) for job in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fn, jobs))


def _clean_rows(job: tuple[str, str, int, int, int]) -> dict[float, np.ndarray]:
    """Where ``who`` fires on a clean ``shape`` of ``n`` rows drawn with ``seed``, from row
    ``counted_from`` (past probation, or once settled), per threshold (see :func:`_fired`)."""
    who, shape, seed, n, counted_from = job
    out = {}
    for th, hits in _fired(who, clean(shape, seed, n)).items():
        rows = np.flatnonzero(hits)
        out[th] = rows[rows >= counted_from]
    return out


def clean_over_seeds(seeds: range = SEEDS, shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    """False detections on each clean shape drawn again with other noise (``seeds``): one draw
    says little about a rate. Also how many come once the detector's memory is full (row
    ``DETECTOR.memory``): before, the memory grows, distances shrink and ranks run low, so the
    early rows understate the rate a long-running sensor sees."""
    jobs = [(who, shape, seed) for who in _detectors() for shape in shapes for seed in seeds]
    counted = [(*job, N, probation_rows(N)) for job in jobs]
    by_threshold = dict(zip(jobs, _in_parallel(_clean_rows, counted), strict=True))
    out: dict[str, Any] = {}
    for who in _detectors():
        fired = {job: at[_own_threshold(who)] for job, at in by_threshold.items() if job[0] == who}
        per_shape = {shape: sum(fired[who, shape, seed].size for seed in seeds) for shape in shapes}
        mine = list(fired.values())
        out[who] = {"false_detections": sum(per_shape.values()),
                    "series_with_any": sum(bool(rows.size) for rows in mine),
                    "after_memory_full": sum(int((rows >= DETECTOR.memory).sum()) for rows in mine),
                    "per_shape": per_shape,
                    "operating_curve": _curve(who, _fired_total(by_threshold, who))}
    return {"series": len(shapes) * len(seeds), "seeds": f"{seeds.start}-{seeds.stop - 1}",
            "rows_each": N, "memory_full_at_row": DETECTOR.memory, **out}


LONG_ROWS, SETTLED_AT = 12_000, 5_000  # six weeks; by 5,000 the memory and both histories are full
LONG_SHAPES = ("noise", "uniform", "daily", "blocks")
LONG_SEEDS = range(4)


def long_run_clean(seeds: range = LONG_SEEDS, shapes: tuple[str, ...] = LONG_SHAPES) -> dict[str, Any]:
    """False detections on long clean series once the detector has settled. The 4,000-row series
    end while the knn's histories still hold the large surprises its young memory measured, so
    its ranks run low (a mean rank of 0.33 to row 2,000 on noise, rising toward 0.5 after):
    their rate understates what a long-running sensor sees."""
    jobs = [(who, shape, seed) for who in _detectors() for shape in shapes for seed in seeds]
    counted = [(*job, LONG_ROWS, SETTLED_AT) for job in jobs]
    by_threshold = dict(zip(jobs, _in_parallel(_clean_rows, counted), strict=True))
    settled_rows = len(seeds) * (LONG_ROWS - SETTLED_AT)
    out: dict[str, Any] = {}
    for who in _detectors():
        fired = {job: at[_own_threshold(who)] for job, at in by_threshold.items() if job[0] == who}
        per_shape = {shape: sum(fired[who, shape, seed].size for seed in seeds) for shape in shapes}
        out[who] = {"false_detections": sum(per_shape.values()), "per_shape": per_shape,
                    "per_10000_rows": {shape: round(10_000 * v / settled_rows, 2)
                                       for shape, v in per_shape.items()},
                    "operating_curve_per_10000_rows": {
                        th: round(10_000 * n / (settled_rows * len(shapes)), 2)
                        for th, n in _curve(who, _fired_total(by_threshold, who)).items()}}
    return {"rows_each": LONG_ROWS, "counted_from_row": SETTLED_AT,
            "seeds": f"{seeds.start}-{seeds.stop - 1}", "series": len(shapes) * len(seeds), **out}


def _judged(job: tuple[str, Case]) -> dict[float, dict[str, Any]]:
    """``who``'s verdict on ``case`` (see :func:`_judge`) per threshold (see :func:`_fired`)."""
    who, case = job
    return {th: _judge(hits, case) for th, hits in _fired(who, case.values).items()}


def _found_total(verdicts: list[tuple[Case, dict[float, dict[str, Any]]]]) -> Callable[[float], float]:
    """How many of the cases were found at a threshold."""
    def total(th: float) -> float:
        return sum(bool(by_th[th]["detected"]) for _, by_th in verdicts)
    return total


def injected_over_seeds(seeds: range = SEEDS) -> dict[str, Any]:
    """The injected anomalies found with the noise drawn again (``seeds``): one draw may find a
    spike by luck. Which ones are missed, and in how many draws."""
    drawn = [c for seed in seeds for c in cases(seed) if c.anomaly != "none"]
    jobs = [(who, case) for who in _detectors() for case in drawn]
    verdicts = _in_parallel(_judged, jobs)
    out: dict[str, Any] = {}
    for who in _detectors():
        mine = [(case, by_th) for (owner, case), by_th in zip(jobs, verdicts, strict=True) if owner == who]
        missed: dict[str, int] = {}
        for case, by_th in mine:
            if not by_th[_own_threshold(who)]["detected"]:
                missed[case.name] = missed.get(case.name, 0) + 1
        out[who] = {"found": len(drawn) - sum(missed.values()), "missed": dict(sorted(missed.items())),
                    "operating_curve": _curve(who, _found_total(mine))}
    return {"cases": len(drawn), "seeds": f"{seeds.start}-{seeds.stop - 1}", **out}


def evaluate(only: set[str] | None = None, seeds: range | None = SEEDS) -> dict[str, Any]:
    """Every case, or the ``only`` ones by name ("noise/spike"); for the whole set, also the
    clean shapes and the injected cases over ``seeds`` (None: not)."""
    all_cases = [c for c in cases() if only is None or c.name in only]
    jobs = [(who, case) for case in all_cases for who in _detectors()]
    rows: dict[str, Any] = {case.name: {} for case in all_cases}
    for (who, case), by_th in zip(jobs, _in_parallel(_judged, jobs), strict=True):
        rows[case.name][who] = by_th[_own_threshold(who)]

    def summary(who: str) -> dict[str, Any]:
        clean_rows = [r[who] for k, r in rows.items() if k.endswith("/none")]
        hit_rows = {k: r[who] for k, r in rows.items() if not k.endswith("/none")}
        return {"false_detections_on_clean_series": sum(r["false_detections"] for r in clean_rows),
                "injected_detected": f"{sum(r['detected'] for r in hit_rows.values())}/{len(hit_rows)}",
                "missed": sorted(k for k, r in hit_rows.items() if not r["detected"]),
                "false_detections_before_injected": sum(r["false_detections_before"]
                                                        for r in hit_rows.values())}

    clean_n = sum(1 for c in all_cases if c.anomaly == "none")
    return {"dataset": f"generated series ({clean_n} clean shapes, {len(SHAPES)} of {N} rows and "
                       f"{len(SHORT_SHAPES)} of {SHORT_N}, each clean and with anomalies injected)",
            "detector": {"name": ours().name, **summary("ours")},
            "quiet_variant": {"name": quiet().name, **summary("quiet")},
            "baseline": {"name": WindowedGaussian.name, **summary("baseline")},
            "series": rows,
            **(_over_seeds(seeds) if seeds is not None and only is None else {})}


def _over_seeds(seeds: range) -> dict[str, Any]:
    return {"clean_over_seeds": clean_over_seeds(seeds), "injected_over_seeds": injected_over_seeds(seeds),
            "long_run_clean": long_run_clean()}
