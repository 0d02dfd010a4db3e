"""NAB, every labelled file present: riskstream's streaming detector next to NAB's windowed-Gaussian
baseline.

Thresholds are fixed before looking at labels (``DETECTOR_THRESHOLD``); NAB's own protocol of
tuning a threshold per profile on the corpus is reported separately as ``swept`` so the two
readings are never confused.

The baseline runs on the values of ``data/``; NAB's published run of the same algorithm read
values rounded to fewer digits, and since its tuned threshold (1.0) sits exactly where the
score saturates in floating point, a few rows flip: 5.4 here vs 13.4 from NAB's own output on
the standard profile. Both are reported (``published_same_files``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.detectors import KnnLikelihoodSpec, build
from riskstream.evaluation.datapath import dataset_dir
from riskstream.evaluation.nab_scoring import (
    PROFILES,
    DetectionScorer,
    normalised,
    score_file,
    window_index_ranges,
    window_labels,
)
from riskstream.evaluation.operating_curve import key, thresholds_for
from riskstream.evaluation.resampling import corpus_interval, paired_interval
from riskstream.models.base import OnlineDetector
from riskstream.models.sensor_rules import Sample
from riskstream.models.streaming import WindowedGaussian
from riskstream.models.thresholding import ThresholdConfig, ThresholdFilter, detections, run_online

# riskstream's detector exactly as a sensor's config sets it up at the edge, {type:
# knn_likelihood}, its defaults (threshold filter included), built by the same plugin
DETECTOR = KnnLikelihoodSpec()
DETECTOR_THRESHOLD = DETECTOR.threshold
# its quiet variant, {type: knn_likelihood, ranks: conditional}, reported beside it
QUIET = KnnLikelihoodSpec(ranks="conditional")
BASELINE_THRESHOLD = 1.0  # NAB's tuned threshold for windowedGaussian (config/thresholds.json)


def ours() -> OnlineDetector:
    """A fresh riskstream detector, built from ``DETECTOR`` by the plugin registry."""
    detector: OnlineDetector = build(DETECTOR)
    return detector


def quiet() -> OnlineDetector:
    """A fresh quiet variant, built from ``QUIET``."""
    detector: OnlineDetector = build(QUIET)
    return detector


@dataclass(slots=True)
class Series:
    name: str
    timestamps: list[str]
    values: list[float]
    windows: list[tuple[int, int]]

    @property
    def labels(self) -> list[int]:
        return window_labels(len(self.values), self.windows)

    def samples(self) -> list[Sample]:
        """The rows as timestamped samples (NAB's timestamps have no zone: read as UTC)."""
        return [Sample(datetime.strptime(ts[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp(), v)
                for ts, v in zip(self.timestamps, self.values, strict=True)]


def load_series(data: str | Path | None = None) -> list[Series]:
    root = dataset_dir("nab", data)
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    out = []
    for rel, wins in sorted(windows.items()):
        with (root / "data" / rel).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        ts = [r["timestamp"] for r in rows]
        edges = [(a[:19], b[:19]) for a, b in wins]
        out.append(Series(rel, ts, _values(rel, rows), window_index_ranges(ts, edges)))
    return out


def _values(rel: str, rows: list[dict[str, str]]) -> list[float]:
    """The value column, or an error naming the file and line a user must mend."""
    values = []
    for line, r in enumerate(rows, start=2):  # line 1 is the header
        try:
            values.append(float(r["value"]))
        except (ValueError, TypeError, KeyError):
            raise ValueError(f"{rel} line {line}: value {r.get('value')!r} is not a "
                             "number") from None
    return values


def _score_all(
    series: list[Series], make: Callable[[], OnlineDetector], gate: ThresholdConfig, timed: bool = True
) -> list[list[float]]:
    """Every file's scores, fed as timestamped samples (``timed``, as the edge feeds a sensor's
    readings) or bare values (the baseline). What is learned is decided by the filter as
    deployed (its threshold, or learn_below); detections are then counted from the scores."""
    return [run_online(make(), s.samples() if timed else s.values, ThresholdFilter(gate)) for s in series]


def _profile_scores(series: list[Series], hits: list[list[float]], threshold: float) -> dict[str, Any]:
    n_windows = sum(len(s.windows) for s in series)
    result: dict[str, Any] = {}
    for name, profile in PROFILES.items():
        files = [
            score_file(h, s.labels, s.windows, threshold, profile) for s, h in zip(series, hits, strict=True)
        ]
        raw = sum(f.score for f in files)
        result[name] = {
            "score": round(normalised(raw, n_windows, profile), 2),
            "interval_90": file_interval(series, [f.score for f in files], name),
            "raw": round(raw, 4),
            "files": {s.name: round(f.score, 4) for s, f in zip(series, files, strict=False)},
            "windows_detected": sum(f.detected_windows for f in files),
            "windows": n_windows,
            "false_positive_rows": sum(f.fp for f in files),
        }
    return result


def _corpus(profile: str) -> Callable[[float, int], float]:
    # a draw of only files without windows (NAB's artificialNoAnomaly) has no normalised score
    return lambda raw, n_windows: normalised(raw, n_windows, PROFILES[profile]) if n_windows else math.nan


def file_interval(series: list[Series], per_file: list[float], profile: str) -> tuple[float, float]:
    """90 % interval of the normalised score over files drawn again with replacement: how far
    the figure could move on other files like these (a handful of files, a wide interval)."""
    return corpus_interval(per_file, [len(s.windows) for s in series], _corpus(profile))


def difference_interval(series: list[Series], a: list[float], b: list[float],
                        profile: str = "standard") -> tuple[float, float]:
    """90 % interval of score(a) - score(b) over the same resampled files: a difference whose
    interval holds 0 is one these files cannot tell from none."""
    return paired_interval(a, b, [len(s.windows) for s in series], _corpus(profile))


def published_on_same_files(data: str | Path | None, series: list[Series]) -> dict[str, dict[str, float]]:
    """NAB's own detectors, normalised over the files scored here, from NAB's published per-file
    scores (a published file that is not scored here does not count, nor do its windows)."""
    root = dataset_dir("nab", data) / "results"
    scored = {s.name for s in series}
    n_windows = sum(len(s.windows) for s in series)
    out: dict[str, dict[str, float]] = {}
    for det_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for name, profile in PROFILES.items():
            path = det_dir / f"{det_dir.name}_{name}_scores.csv"
            if not path.is_file():
                continue
            with path.open(newline="") as fh:
                rows = {r["File"]: float(r["Score"]) for r in csv.DictReader(fh) if r["File"] in scored}
            if set(rows) == scored:  # a detector published for only some of them is left out
                out.setdefault(det_dir.name, {})[name] = round(
                    normalised(sum(rows.values()), n_windows, profile), 2)
    return out


def describe(series: list[Series]) -> str:
    """What was scored, by NAB category: "NAB realKnownCause (7 files, 19 windows)"."""
    categories = sorted({s.name.split("/")[0] for s in series})
    label = categories[0] if len(categories) == 1 else f"{len(categories)} categories"
    return f"NAB {label} ({len(series)} files, {sum(len(s.windows) for s in series)} windows)"


def best_threshold(total: Callable[[float], float], lo: float = 0.0, hi: float = 1.0,
                   steps: int = 20, rounds: int = 4) -> tuple[float, float]:
    """(best score, threshold): a grid over [lo, hi], then finer grids around the best, each
    ``steps`` times finer (to 1e-5 of the range with the defaults), as NAB's optimiser
    searches a continuous threshold rather than a coarse grid."""
    best = (-1e18, hi)
    for _ in range(rounds):
        step = (hi - lo) / steps
        for i in range(steps + 1):
            th = hi if i == steps else lo + i * step  # the grid's ends exactly: scores saturate at 1
            best = max(best, (total(th), th))
        lo, hi = max(0.0, best[1] - step), min(1.0, best[1] + step)
    return best


def detections_at(scores: list[float], threshold: float,
                  cfg: ThresholdConfig = DETECTOR_THRESHOLD) -> list[float]:
    """Where detections start in a file's scores with the filter ``cfg`` at ``threshold``."""
    out = [0.0] * len(scores)
    for i in detection_starts(np.asarray(scores, dtype=float), threshold, cfg):
        out[i] = 1.0
    return out


def detection_starts(scores: np.ndarray, threshold: float,
                     cfg: ThresholdConfig = DETECTOR_THRESHOLD) -> list[int]:
    """Row indices where the filter ``cfg`` at ``threshold`` starts a detection. Without
    hysteresis, a detection can only start inside a run of rows at the threshold: at its
    ``min_consecutive``-th row, or sooner at its first row reaching ``fire_at_once``; each
    counts unless within ``cooldown`` inputs of the last. Found from the few rows at the
    threshold instead of a pass over every row (the threshold searches call this thousands of
    times). With hysteresis, the filter itself."""
    if cfg.hysteresis != 0.0:
        at = cfg.model_copy(update={"threshold": threshold})
        return [i for i, d in enumerate(detections(scores.tolist(), at)) if d]
    high = np.concatenate(([False], scores >= threshold, [False]))
    edges = np.flatnonzero(high[1:] != high[:-1])
    firsts, lasts = edges[::2], edges[1::2] - 1  # each run of rows at the threshold
    candidates = firsts + cfg.min_consecutive - 1
    certain = (np.flatnonzero(scores >= max(threshold, cfg.fire_at_once))
               if cfg.fire_at_once is not None else np.zeros(0, dtype=np.int64))
    if certain.size:
        nxt = np.searchsorted(certain, firsts)  # the first certain row from each run's first on
        sooner = np.where(nxt < len(certain), certain[np.minimum(nxt, len(certain) - 1)],
                          np.iinfo(np.int64).max)
        candidates = np.minimum(candidates, sooner)
    starts: list[int] = []
    for i in candidates[candidates <= lasts].tolist():
        if not starts or i > starts[-1] + cfg.cooldown:
            starts.append(i)
    return starts


Starts = Callable[[np.ndarray, float], list[int]]


def _point_starts(scores: np.ndarray, threshold: float) -> list[int]:
    """Every row at the threshold is a detection: how NAB scores a detector's raw output."""
    return [int(i) for i in np.flatnonzero(scores >= threshold)]


def swept(series: list[Series], scores: list[list[float]], starts: Starts | None = None) -> dict[str, Any]:
    """NAB's own protocol, for comparison with its published table only: per profile, the
    detection threshold that scores best on these files' labels (every published NAB figure
    was tuned this way). Never used to choose riskstream's operating threshold. ``starts``
    turns a file's scores into detection rows at a threshold (default: the detector's filter;
    :func:`_point_starts` for a baseline scored row by row)."""
    n_windows = sum(len(s.windows) for s in series)
    to_starts = starts or detection_starts
    arrays = [np.asarray(sc, dtype=float) for sc in scores]
    out: dict[str, Any] = {}
    for name, profile in PROFILES.items():
        scorers = [DetectionScorer(len(s.values), s.windows, profile) for s in series]

        def total(th: float, scorers: list[DetectionScorer] = scorers, profile: Any = profile) -> float:
            raw = sum(f.score(to_starts(a, th)) for f, a in zip(scorers, arrays, strict=True))
            return normalised(raw, n_windows, profile)

        score, th = best_threshold(total)
        out[name] = {"score": round(score, 2), "threshold": round(th, 6)}
    return out


def leave_one_file_out(series: list[Series], scores: list[list[float]]) -> dict[str, Any]:
    """NAB's protocol made honest: each file is scored at the threshold tuned (per profile) on
    the *other* files, so no file's labels choose its own threshold. The spread of the chosen
    thresholds says how stable the tuned figure is."""
    n_windows = sum(len(s.windows) for s in series)
    arrays = [np.asarray(sc, dtype=float) for sc in scores]
    cache: dict[tuple[int, float], list[int]] = {}

    def starts(i: int, th: float) -> list[int]:
        if (i, th) not in cache:
            cache[(i, th)] = detection_starts(arrays[i], th)
        return cache[(i, th)]

    out: dict[str, Any] = {}
    for name, profile in PROFILES.items():
        scorers = [DetectionScorer(len(s.values), s.windows, profile) for s in series]

        def file_score(i: int, th: float, scorers: list[DetectionScorer] = scorers) -> float:
            return scorers[i].score(starts(i, th))

        per_file, thresholds = [], []
        for held in range(len(series)):
            rest = [i for i in range(len(series)) if i != held]

            def others(t: float, rest: list[int] = rest) -> float:
                return sum(file_score(i, t) for i in rest)

            _, th = best_threshold(others, rounds=3)
            thresholds.append(round(th, 4))
            per_file.append(file_score(held, th))
        out[name] = {"score": round(normalised(sum(per_file), n_windows, profile), 2),
                     "interval_90": file_interval(series, per_file, name), "thresholds": thresholds,
                     "files": {s.name: round(v, 4) for s, v in zip(series, per_file, strict=True)}}
    return out


def operating_curve(series: list[Series], scores: list[list[float]],
                    cfg: ThresholdConfig = DETECTOR_THRESHOLD) -> dict[str, dict[str, Any]]:
    """The standard score, windows found and false-positive rows at each threshold of the
    curve (see :mod:`riskstream.evaluation.operating_curve`), the filter otherwise as ``cfg``:
    what raising the threshold costs on NAB, beside what it saves on the clean series."""
    n_windows = sum(len(s.windows) for s in series)
    out: dict[str, dict[str, Any]] = {}
    for th in thresholds_for(cfg):
        files = [score_file(detections_at(sc, th, cfg), s.labels, s.windows, 1.0, PROFILES["standard"])
                 for s, sc in zip(series, scores, strict=True)]
        out[key(th)] = {"standard": round(normalised(sum(f.score for f in files), n_windows,
                                                     PROFILES["standard"]), 2),
                        "windows_detected": sum(f.detected_windows for f in files),
                        "false_positive_rows": sum(f.fp for f in files)}
    return out


def _raw(result: dict[str, Any], profile: str = "standard") -> list[float]:
    return list(result[profile]["files"].values())


def evaluate(data: str | Path | None = None) -> dict[str, Any]:
    series = load_series(data)
    ours_scores = _score_all(series, ours, DETECTOR.threshold)
    ours_hits = [detections_at(sc, DETECTOR.threshold.threshold) for sc in ours_scores]
    base_scores = _score_all(series, WindowedGaussian, ThresholdConfig(threshold=BASELINE_THRESHOLD), False)
    quiet_scores = _score_all(series, quiet, QUIET.threshold)
    quiet_hits = [detections_at(sc, QUIET.threshold.threshold) for sc in quiet_scores]
    detector = {**_profile_scores(series, ours_hits, 1.0),
                "swept_nab_protocol": swept(series, ours_scores),
                "leave_one_file_out": leave_one_file_out(series, ours_scores),
                "operating_curve": operating_curve(series, ours_scores)}
    variant = {**_profile_scores(series, quiet_hits, 1.0),
               "swept_nab_protocol": swept(series, quiet_scores),
               "leave_one_file_out": leave_one_file_out(series, quiet_scores),
               "operating_curve": operating_curve(series, quiet_scores, QUIET.threshold)}
    return {
        "dataset": describe(series),
        "detector": {
            "name": ours().name,
            "threshold": DETECTOR.threshold.model_dump(),
            **detector,
        },
        "baseline": {
            "name": WindowedGaussian.name,
            "threshold": BASELINE_THRESHOLD,
            **_profile_scores(series, base_scores, BASELINE_THRESHOLD),
            "swept_nab_protocol": swept(series, base_scores, _point_starts),
        },
        "quiet_variant": {
            "name": quiet().name,
            "config": QUIET.model_dump(include={"type", "ranks"}),
            "threshold": QUIET.threshold.model_dump(),
            **variant,
            "minus_default_interval_90": {
                "fixed": difference_interval(series, _raw(variant), _raw(detector)),
                "leave_one_file_out": difference_interval(
                    series, _raw(variant["leave_one_file_out"]), _raw(detector["leave_one_file_out"])),
            },
        },
        "published_same_files": published_on_same_files(data, series),
        "_series": series,
        "_scores": {"ours": ours_scores, "baseline": base_scores, "hits": ours_hits},
    }
