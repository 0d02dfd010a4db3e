"""UCSD Ped2: frame-level ROC AUC of the scene-anomaly model trained on the normal training clips,
over the frames of the test clips (scores not normalised per clip), and the analysed frames per
second on one core (the whole step: resize, optical flow, model). In the same run: the plain
global frame-difference energy (no per-location model), which is what motion detection alone
would give, and the previous artifact (scene-ped2@2, per-cell frame differences) when present.

The model and its settings were chosen by cross-validation on the training clips
(:mod:`riskstream.evaluation.ped2_cv`, protocol version 3: the model as version 2 chose it, then
its detection filter) before any test clip was scored with them: the speed model (optical flow
per 6 px cell against its row's normal speed, top 3).
"""

from __future__ import annotations

import csv
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.evaluation.datapath import dataset_dir
from riskstream.evaluation.metrics import roc_auc
from riskstream.evaluation.video_io import jpeg_folder
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.video.scene import SceneAnomalyDetector, preprocess
from riskstream.models.video.speed import SpeedSettings, train_speed_model

FPS = 10.0  # Ped2's frame rate as commonly assumed (the dataset does not state one)
# The cross-validation's choice (ped2_cv, protocol version 2 and 3, mean fold AUC 95.98) is what
# SpeedSettings defaults to, so a camera's own scene recipe trains the same model.
SETTINGS = SpeedSettings()

PREVIOUS = "scene-ped2@2"


def labels(root: Path) -> dict[str, np.ndarray]:
    """Frame labels of every test clip whose frames are present (a row per anomaly range)."""
    out: dict[str, np.ndarray] = {}
    frames = root / "testing" / "frames"
    with (root / "ped2_testing_frame_labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not (frames / row["clip"]).is_dir():
                continue
            y = out.setdefault(row["clip"], np.zeros(int(row["n_frames"]), dtype=int))
            y[int(row["anomaly_first_frame_1based"]) - 1 : int(row["anomaly_last_frame_1based"])] = 1
    return out


def clip_auc(scores: np.ndarray, y: np.ndarray) -> float | None:
    """Per-clip AUC where it is defined: a clip anomalous in every frame (4 of Ped2's 12) has
    none, and counts only in the frame-level AUC over all clips."""
    return round(100 * roc_auc(scores, y), 2) if 0 < y.sum() < len(y) else None


def train(root: Path, out_dir: Path, version: str = "3") -> None:
    """The cross-validated speed model over all the training clips; the test clips are never
    read."""
    folders = sorted((root / "training" / "frames").iterdir())
    train_speed_model(
        (jpeg_folder(c) for c in folders),
        out_dir,
        name="scene-ped2",
        version=version,
        fps=FPS,
        settings=SETTINGS,
        training={
            "data": f"UCSD Ped2 training clips {', '.join(c.name for c in folders)} (normal footage only)",
            "command": "riskstream models train scene-ped2 --data PATH",
            "chosen_by": "riskstream/evaluation/ped2_cv.py, protocol version 3 (training clips only): "
            "the model by its fold AUC, the calibration quantile and frames in a row by held-out "
            "normal detections and pasted objects found",
        },
    )


def settings_cv(root: Path) -> dict[str, Any]:
    """The cross-validation of the model's settings on the training clips (``ped2_cv``)."""
    from riskstream.evaluation.ped2_cv import cross_validate

    clips = [list(jpeg_folder(c)) for c in sorted((root / "training" / "frames").iterdir())]
    cv = cross_validate(clips)
    return {"protocol": cv["protocol"], "chosen": cv["chosen"],
            "mean_auc": {k: v["mean_auc"] for k, v in cv["candidates"].items()},
            "by_kind": {k: v["by_kind"] for k, v in cv["candidates"].items()},
            "filter": cv["filter"]}


def _frame_energy(frames: list[np.ndarray]) -> np.ndarray:
    small = [preprocess(f, 120, 180, 1.0 / 255.0) for f in frames]
    energy = [0.0] + [float(np.abs(b - a).mean()) for a, b in itertools.pairwise(small)]
    return np.array(energy)


def _incidents(scores: np.ndarray, y: np.ndarray, model_ref: str) -> dict[str, Any]:
    """Detections as the edge makes them with the plugin's default threshold (what
    ``{type: scene_model, model: ...}`` gives): found during the anomaly (and how late), and
    false ones among the normal frames."""
    from riskstream.detectors import SceneModelSpec
    from riskstream.models.thresholding import detections

    default = SceneModelSpec(model=model_ref).threshold  # {type: scene_model, model: ...} as written
    starts = np.flatnonzero(detections(scores.tolist(), default))
    inside = [int(i) for i in starts if y[i]]
    onset = int(np.flatnonzero(y)[0]) if y.any() else None
    return {"detected": bool(inside),
            "delay_s": round((inside[0] - onset) / FPS, 1) if inside and onset is not None else None,
            "false_detections": int(sum(1 for i in starts if not y[i]))}


def _scores(model: OnnxModel, frames: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """The edge's smoothed scores of one clip and the seconds its detector took on one thread
    (OpenCV's own pool held to one thread; the ONNX session has one)."""
    import cv2

    det = SceneAnomalyDetector(model, fps=FPS)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        start = time.perf_counter()
        scores = np.array([det.score(f) for f in frames])
        return scores, time.perf_counter() - start
    finally:
        cv2.setNumThreads(threads)


def _previous() -> OnnxModel | None:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.card import CardError

    try:
        return OnnxModel(resolve_model(PREVIOUS))
    except CardError:
        return None


def evaluate(data: str | Path | None = None, model_dir: Path | None = None) -> dict[str, Any]:
    root = dataset_dir("video/ucsd_ped2", data)
    truth = labels(root)
    previous = _previous()
    with tempfile.TemporaryDirectory() as tmp:
        directory = model_dir or Path(tmp)
        if model_dir is None:
            train(root, directory, version="eval")
        model = OnnxModel(directory)
        ours, base, prev, ys, seconds, n_frames = [], [], [], [], 0.0, 0
        per_clip: dict[str, dict[str, Any]] = {}
        for clip, y in sorted(truth.items()):
            frames = list(jpeg_folder(root / "testing" / "frames" / clip))
            scores, took = _scores(model, frames)
            seconds += took
            n_frames += len(frames)
            energy = _frame_energy(frames)
            per_clip[clip] = {
                "frames": len(y), "anomalous_frames": int(y.sum()),
                "auc": clip_auc(scores, y), "baseline_auc": clip_auc(energy, y),
                "at_threshold": _incidents(scores, y, model.card.model_ref),
            }
            if previous is not None:
                before = _scores(previous, frames)[0]
                per_clip[clip]["previous_auc"] = clip_auc(before, y)
                prev.append(before)
            ours.append(scores)
            base.append(energy)
            ys.append(y)
    y_all = np.concatenate(ys)
    result: dict[str, Any] = {
        "dataset": f"UCSD Ped2 test clips {', '.join(sorted(truth))} "
        "(frame-level, no per-clip normalisation)",
        "detector": {
            "name": model.card.model_ref,
            "frame_auc": round(100 * roc_auc(np.concatenate(ours), y_all), 2),
            # the whole analysis step: resize, optical flow, model, smoothing (one thread)
            "analysed_fps_one_core": round(n_frames / seconds, 1),
            # at the default threshold of the scene_model plugin (0.5): clips whose anomaly
            # raised a detection, and detections among normal frames
            "clips_detected": sum(c["at_threshold"]["detected"] for c in per_clip.values()),
            "false_detections": sum(c["at_threshold"]["false_detections"] for c in per_clip.values()),
        },
        "baseline": {
            "name": "global frame-difference energy",
            "frame_auc": round(100 * roc_auc(np.concatenate(base), y_all), 2),
        },
        "clips": per_clip,
        "settings_cv": settings_cv(root),
        "_scores": {"ours": ours, "baseline": base, "labels": ys},
    }
    if previous is not None:
        result["previous"] = {"name": PREVIOUS,
                              "frame_auc": round(100 * roc_auc(np.concatenate(prev), y_all), 2)}
    return result
