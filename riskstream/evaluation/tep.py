"""Tennessee Eastman, every fault run present (``dNN_te.dat``, NN > 0): detection rate on the
faulty test rows (161-960) and false-alarm rate on normal rows (the normal test run d00_te and
rows 1-160 of each fault run), for riskstream's window autoencoder (ONNX) next to PCA T2/SPE,
both trained on the normal run d00 only and thresholded from normal data.

``all_normal_rows`` pools the false alarms of every normal row (d00_te and rows 1-160 of every
fault run; 1,280 rows with faults 1 and 4): 160 rows alone hold one alarm episode or none, so a
fault run's own figure jumps between 0 and ~20 % with the training seed.

The autoencoders' training is random: the detailed figures are seed 0's, and ``seeds`` gives
each fault's detection rate and the all-normal-rows false-alarm rate over seeds 0..4 (mean,
standard deviation, worst).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.evaluation import metrics
from riskstream.evaluation.datapath import dataset_dir
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.pca import PcaMonitor
from riskstream.models.thresholding import ThresholdConfig, flags
from riskstream.models.window_model import WindowModelDetector, train_window_model

FAULT_START_ROW = 160  # 0-based: rows 161-960 (1-based) are faulty
FEATURES = [f"xmeas_{i}" for i in range(1, 42)] + [f"xmv_{i}" for i in range(1, 12)]
WINDOW = 5
THRESHOLD = ThresholdConfig(threshold=0.5, min_consecutive=3, hysteresis=0.1)
BASELINE_THRESHOLD = ThresholdConfig(threshold=0.5)


def read(path: Path) -> np.ndarray:
    try:
        rows = np.loadtxt(path, dtype=np.float32, ndmin=2)
    except ValueError as exc:  # numpy names the row, not the file
        raise ValueError(f"{path.name}: {exc}") from None
    if rows.shape[0] == len(FEATURES) and rows.shape[1] != len(FEATURES):
        rows = rows.T  # d00.dat is stored transposed (52 x 500)
    if rows.shape[1] != len(FEATURES):
        raise ValueError(f"{path}: expected {len(FEATURES)} columns, got {rows.shape[1]}")
    return rows


def faults_present(root: Path) -> list[int]:
    """The fault numbers of the test runs in the folder (d00_te.dat is the normal run)."""
    found = (re.fullmatch(r"d(\d\d)_te\.dat", p.name) for p in root.iterdir())
    return sorted(int(m.group(1)) for m in found if m and int(m.group(1)) > 0)


def _rates(flagged: np.ndarray, fault: bool) -> dict[str, float | int | None]:
    if not fault:
        return {"false_alarm_rate": round(float(flagged.mean()), 4), "rows": len(flagged)}
    first = np.flatnonzero(flagged[FAULT_START_ROW:])
    return {
        "detection_rate": round(float(flagged[FAULT_START_ROW:].mean()), 4),
        "false_alarm_rate": round(float(flagged[:FAULT_START_ROW].mean()), 4),
        "delay_rows": int(first[0]) if len(first) else None,
    }


SEEDS = 5  # the autoencoders' training is random: the spread over seeds 0..SEEDS-1 is reported


def _ours(normal: np.ndarray, runs: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """The window autoencoder trained on ``normal`` with ``seed``: its scores of every run."""
    with tempfile.TemporaryDirectory() as tmp:
        train_window_model(
            normal,
            FEATURES,
            Path(tmp),
            name="tep-window-ae",
            version="eval",
            window=WINDOW,
            seed=seed,
            training={"data": "TEP d00.dat (normal operation, 500 rows)"},
        )
        model = OnnxModel(Path(tmp))
        return {run: WindowModelDetector(model).score_series(rows) for run, rows in runs.items()}


def _normal_part(run: str, flagged: np.ndarray) -> np.ndarray:
    return flagged if run == "normal" else flagged[:FAULT_START_ROW]


def _seed_rates(scores: dict[str, np.ndarray]) -> dict[str, float]:
    """One seed's figures: each fault's detection rate and the false-alarm rate over every
    normal row."""
    flagged = {run: np.array(flags(s, THRESHOLD)) for run, s in scores.items()}
    out = {run: round(float(f[FAULT_START_ROW:].mean()), 4) for run, f in flagged.items() if run != "normal"}
    normal = np.concatenate([_normal_part(run, f) for run, f in flagged.items()])
    return {**out, "all_normal_false_alarm_rate": round(float(normal.mean()), 4)}


def seed_spread(per_seed: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each figure over the seeds (worst: the lowest detection rate, the highest false-alarm
    rate)."""
    return {key: metrics.seed_spread([r[key] for r in per_seed], worst_is_low="false_alarm" not in key)
            for key in per_seed[0]}


def evaluate(data: str | Path | None = None, seeds: int = SEEDS) -> dict[str, Any]:
    root = dataset_dir("tep", data)
    normal = read(root / "d00.dat")
    faults = faults_present(root)
    runs = {
        "normal": read(root / "d00_te.dat"),
        **{f"fault_{f}": read(root / f"d{f:02d}_te.dat") for f in faults},
    }
    pca = PcaMonitor.fit(normal)
    result: dict[str, Any] = {
        "dataset": "Tennessee Eastman (train d00, test d00_te + faults "
                   f"{', '.join(map(str, faults))})",
        "detector": {"name": "window-autoencoder (ONNX)", "threshold": THRESHOLD.model_dump(), "seed": 0},
        "baseline": {"name": PcaMonitor.name, "threshold": BASELINE_THRESHOLD.model_dump()},
    }
    per_seed = [_ours(normal, runs, seed) for seed in range(max(seeds, 1))]
    scores: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    normal_flags: dict[str, list[np.ndarray]] = {"detector": [], "baseline": []}
    for run, rows in runs.items():
        ours_s, base_s = per_seed[0][run], pca.scores(rows)
        truth = np.zeros(len(rows), dtype=int)
        if run != "normal":
            truth[FAULT_START_ROW:] = 1
        scores[run] = (ours_s, base_s, truth)
        ours = np.array(flags(ours_s, THRESHOLD))
        base = np.array(flags(base_s, BASELINE_THRESHOLD))
        result["detector"][run] = _rates(ours, run != "normal")
        result["baseline"][run] = _rates(base, run != "normal")
        normal_flags["detector"].append(_normal_part(run, ours))
        normal_flags["baseline"].append(_normal_part(run, base))
    for who, parts in normal_flags.items():
        result[who]["all_normal_rows"] = _rates(np.concatenate(parts), fault=False)
    rates = [_seed_rates(s) for s in per_seed]
    result["seeds"] = {"seeds": len(rates), "per_seed": rates, **seed_spread(rates)}
    result["_scores"] = scores
    return result
