"""URFD fall-01: delay from the labelled fall start (first frame labelled 0 = falling) to the
first alert of the person-down detector, and whether anything fired before it. The clip is
URFD's side-by-side format; the detector sees the RGB (right) half only.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.evaluation.datapath import dataset_dir
from riskstream.evaluation.video_io import video_frames
from riskstream.models.thresholding import ThresholdConfig, detections
from riskstream.models.video.fall import FallDetector

THRESHOLD = ThresholdConfig(threshold=0.5, min_consecutive=2)
SEQUENCE = "fall-01"


def fall_start_frame(root: Path, sequence: str = SEQUENCE) -> int:
    """1-based number of the first frame labelled 0 (falling) for ``sequence``."""
    with (root / "urfall-cam0-falls.csv").open(newline="") as fh:
        for row in csv.reader(fh):
            if row and row[0] == sequence and int(float(row[2])) == 0:
                return int(row[1])
    raise ValueError(f"no falling frame labelled for {sequence}")


def evaluate(data: str | Path | None = None) -> dict[str, Any]:
    root = dataset_dir("video/urfd", data)
    fps, frames = video_frames(root / f"{SEQUENCE}-cam0.mp4")
    det = FallDetector(fps=fps)
    scores = []
    for frame in frames:
        rgb = frame[:, frame.shape[1] // 2 :]
        scores.append(det.score(rgb))
    fired = np.flatnonzero(detections(scores, THRESHOLD)) + 1  # 1-based frame numbers
    start = fall_start_frame(root)
    before = [int(f) for f in fired if f < start]
    after = [int(f) for f in fired if f >= start]
    delay = (after[0] - start) / fps if after else None
    return {
        "dataset": f"URFD {SEQUENCE} (RGB half, {fps:.0f} fps)",
        "detector": {
            "name": FallDetector.name,
            "threshold": THRESHOLD.model_dump(),
            "fall_start_frame": start,
            "first_alert_frame": after[0] if after else None,
            "delay_s": round(delay, 3) if delay is not None else None,
            "alerts_before_fall": len(before),
            "alert_frames": [int(f) for f in fired],
        },
        "_scores": {"scores": scores, "fall_start": start, "fps": fps},
    }
