"""NAB's threshold searches (NAB's protocol and leave-one-file-out) on a corpus the size of NAB's
whole one: the fast paths (detection starts from rising edges, a file scored from the rows that
fired) next to the plain ones (the threshold filter over every row, :func:`score_file`) on the
same scores and thresholds, and the whole search's time with the fast paths.

The scores are generated (58 files of 1,600-22,700 rows, runs of high scores as a detector
makes them; 2-4 windows each): no data needed, and what is timed is the search, not a detector.

    .venv/bin/python -m benchmarks.nab_protocol
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import report, save
from riskstream.evaluation import nab
from riskstream.evaluation.nab_scoring import PROFILES, DetectionScorer, score_file, window_labels
from riskstream.models.thresholding import detections

FILES = 58


def corpus(seed: int = 0) -> tuple[list[nab.Series], list[list[float]]]:
    rng = np.random.default_rng(seed)
    series, scores = [], []
    for i in range(FILES):
        n = int(rng.integers(1600, 22700))
        k = int(rng.integers(2, 5))
        width = max(2, int(0.1 * n / k))
        starts = sorted(rng.choice(np.arange(int(0.2 * n), n - width), k, replace=False))
        windows = [(int(a), int(a) + width - 1) for a in starts]
        raw = np.convolve(rng.random(n), np.ones(8) / 8, mode="same") ** 3
        for a, _ in windows:
            raw[a + width // 3: a + width // 3 + 20] += 0.5
        series.append(nab.Series(f"generated/{i}.csv", [], [0.0] * n, windows))
        scores.append(np.clip(raw, 0.0, 1.0).tolist())
    return series, scores


def per_call(series: list[nab.Series], scores: list[list[float]],
             thresholds: list[float]) -> dict[str, float]:
    """Seconds per (file, threshold) of each path, and whether they agree on every one."""
    profile = PROFILES["standard"]
    cfg = nab.DETECTOR_THRESHOLD
    arrays = [np.asarray(s) for s in scores]
    labels = [window_labels(len(s.values), s.windows) for s in series]
    scorers = [DetectionScorer(len(s.values), s.windows, profile) for s in series]
    fast, plain, same = 0.0, 0.0, True
    for th in thresholds:
        at = cfg.model_copy(update={"threshold": th})
        for s, sc, a, lab, scorer in zip(series, scores, arrays, labels, scorers, strict=True):
            t0 = time.perf_counter()
            got = scorer.score(nab.detection_starts(a, th))
            t1 = time.perf_counter()
            want = score_file([float(d) for d in detections(sc, at)], lab, s.windows, 1.0, profile).score
            t2 = time.perf_counter()
            fast, plain = fast + t1 - t0, plain + t2 - t1
            same = same and abs(got - want) < 1e-9
    calls = len(thresholds) * len(series)
    return {"fast_s": fast / calls, "plain_s": plain / calls, "agree": float(same)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    series, scores = corpus()
    rows = sum(len(s.values) for s in series)
    calls = per_call(series, scores, [0.3, 0.5, 0.7, 0.9])
    if not calls["agree"]:
        raise SystemExit("the fast and plain paths disagree: no figure")
    start = time.perf_counter()
    nab.swept(series, scores)
    swept_s = time.perf_counter() - start
    start = time.perf_counter()
    nab.leave_one_file_out(series, scores)
    loo_s = time.perf_counter() - start
    # the plain path's search, estimated from its per-call time: (files - 1) files x up to 63
    # thresholds per fold (3 rounds of 21), times folds, times 3 profiles
    plain_loo_s = calls["plain_s"] * (FILES - 1) * 63 * FILES * 3
    if min(calls["fast_s"], calls["plain_s"], swept_s, loo_s) <= 0:
        raise SystemExit("a timing of zero or less: no figure")
    figures = {"files": FILES, "rows": rows,
               "per_file_and_threshold_s": {k: calls[k] for k in ("fast_s", "plain_s")},
               "speedup_per_call": round(calls["plain_s"] / calls["fast_s"], 1),
               "nab_protocol_s": round(swept_s, 2), "leave_one_file_out_s": round(loo_s, 2),
               "leave_one_file_out_plain_estimate_s": round(plain_loo_s, 1)}
    report("NAB threshold searches, 58 generated files", [
        ("rows", f"{rows:,}"),
        ("one file at one threshold: fast / plain",
         f"{calls['fast_s'] * 1e3:.2f} ms / {calls['plain_s'] * 1e3:.2f} ms "
         f"({figures['speedup_per_call']}x)"),
        ("NAB's protocol (3 profiles), fast", f"{swept_s:.1f} s"),
        ("leave one file out (3 profiles), fast / plain (estimated)",
         f"{loo_s:.1f} s / {plain_loo_s / 60:.0f} min"),
    ])
    print(f"results: {save('nab_protocol', figures)}")


if __name__ == "__main__":
    main()
