"""The NAB scorer reproduces NAB's own published per-file scores and counts (5 detectors x 3
profiles x 7 files), and the windowed-Gaussian baseline reproduces NAB's per-row output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from riskstream.evaluation.nab_scoring import PROFILES, score_file, window_index_ranges, window_labels
from riskstream.models.streaming import WindowedGaussian
from riskstream.models.thresholding import run_online

from .conftest import need

DETECTORS = ["numenta", "windowedGaussian", "null", "knncad", "relativeEntropy"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_published_file_scores(detector: str, profile: str) -> None:
    root = need("nab")
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    published = _rows(root / "results" / detector / f"{detector}_{profile}_scores.csv")
    assert len(published) == 7
    for row in published:
        series = _rows(
            root / "results" / detector / "realKnownCause" / f"{detector}_{Path(row['File']).name}"
        )
        ts = [r["timestamp"] for r in series]
        ranges = window_index_ranges(ts, [(a[:19], b[:19]) for a, b in windows[row["File"]]])
        labels = window_labels(len(ts), ranges)
        assert labels == [int(r["label"]) for r in series]
        got = score_file(
            [float(r["anomaly_score"]) for r in series],
            labels,
            ranges,
            float(row["Threshold"]),
            PROFILES[profile],
        )
        assert got.score == pytest.approx(float(row["Score"]), abs=1e-9), row["File"]
        assert (got.tp, got.tn, got.fp, got.fn) == tuple(int(row[k]) for k in ("TP", "TN", "FP", "FN"))


def test_windowed_gaussian_matches_nab_row_for_row() -> None:
    root = need("nab")
    for path in sorted((root / "results" / "windowedGaussian" / "realKnownCause").glob("*.csv")):
        rows = _rows(path)
        ours = run_online(WindowedGaussian(), [float(r["value"]) for r in rows], lambda s: False)
        ref = [float(r["anomaly_score"]) for r in rows]
        assert ours == pytest.approx(ref, abs=1e-9), path.name
