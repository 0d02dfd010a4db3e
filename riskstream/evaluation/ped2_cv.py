"""Choosing the Ped2 scene model's settings without the test clips: cross-validation on the
normal training clips with synthetic anomalies pasted in.

Protocol (fixed before any test clip was scored with a model it chose):

- the 16 training clips in 4 folds of 4 (clips 1, 5, 9, 13 / 2, 6, 10, 14 / ...); per fold the
  model's statistics come from the other 12 clips;
- on each held-out clip, two synthetic anomalies, each pasted into 40 of its frames from frame
  40 on: a person-sized object (24 x 36 px) moving at 8 px per frame (a cyclist: about four
  times walking speed) and a cart-sized one (60 x 40 px) at walking speed (2 px per frame),
  each a patch of the scene itself made 70 grey levels darker or lighter, along a random row;
- the figure is the frame-level ROC AUC of the detector's score (the trailing mean the edge
  uses) over the held-out clips' normal frames against the frames with an object, one AUC per
  fold; the settings with the best mean over the folds win (ties: the larger cell, cheaper).

Ped2's real anomalies (bicycles, skaters, carts, people crossing the grass) differ in speed,
size and place; the synthetic ones stand only for the first two.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from riskstream.evaluation.metrics import roc_auc
from riskstream.models.video.scene import cell_motion, preprocess

HEIGHT, WIDTH = 120, 180
CELLS = (5, 6, 10, 12, 15, 20, 30)  # each divides 120 and 180
TOP_K = (1, 3, 5, 8, 12)
SMOOTH = 5  # SceneAnomalyDetector's trailing mean
FOLDS = 4
OBJECTS = {"cyclist": (24, 36, 8), "cart": (60, 40, 2)}  # width, height, px per frame


def paste_object(frames: Sequence[np.ndarray], kind: str, seed: int) -> list[np.ndarray]:
    """The frames with a synthetic object of ``kind`` crossing them left to right."""
    rng = np.random.default_rng(seed)
    pw, ph, speed = OBJECTS[kind]
    h, w = frames[0].shape[:2]
    y, x0 = int(rng.integers(h // 4, h - ph - 5)), int(rng.integers(0, w // 4))
    shift = int(rng.choice([-70, 70]))
    out = []
    for i, frame in enumerate(frames):
        img = frame.astype(np.int16)
        x = x0 + speed * i
        if x + pw < w:
            img[y:y + ph, x:x + pw] += shift
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def _cells(frames: Sequence[np.ndarray], cell: int) -> np.ndarray:
    pre = [preprocess(f, HEIGHT, WIDTH, 1.0 / 255.0) for f in frames]
    return np.stack([cell_motion(a, b, cell) for a, b in itertools.pairwise(pre)])


def _scores(cells: np.ndarray, mean: np.ndarray, std: np.ndarray, top_k: int) -> np.ndarray:
    z = ((cells - mean) / std).reshape(len(cells), -1)
    s = np.maximum(np.sort(z, axis=1)[:, -top_k:].mean(axis=1), 0.0)
    csum = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(len(s))
    lo = np.maximum(0, idx - SMOOTH + 1)
    return np.asarray((csum[idx + 1] - csum[lo]) / (idx + 1 - lo))


def cross_validate(clips: Sequence[Sequence[np.ndarray]]) -> dict[str, Any]:
    """The protocol above over ``clips`` (normal footage); returns every candidate's fold AUCs
    and the chosen ``cell`` and ``top_k``."""
    if len(clips) < FOLDS:
        raise ValueError(f"cross-validation needs at least {FOLDS} normal clips, got {len(clips)}")
    folds = [list(range(i, len(clips), FOLDS)) for i in range(FOLDS)]
    table: dict[str, Any] = {}
    for cell in CELLS:
        normal = [_cells(c, cell) for c in clips]
        pasted = [[_cells(paste_object(c[40:80], kind, 100 * i + j), cell)
                   for j, kind in enumerate(OBJECTS)] for i, c in enumerate(clips)]
        for top_k in TOP_K:
            aucs = []
            for held in folds:
                train = np.concatenate([normal[i] for i in range(len(clips)) if i not in held])
                mean, std = train.mean(axis=0), train.std(axis=0) + 1e-3
                neg = np.concatenate([_scores(normal[i], mean, std, top_k) for i in held])
                pos = np.concatenate([_scores(p, mean, std, top_k)[SMOOTH:]
                                      for i in held for p in pasted[i]])
                y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
                aucs.append(round(100 * roc_auc(np.r_[neg, pos], y), 2))
            table[f"cell={cell},top_k={top_k}"] = {
                "cell": cell, "top_k": top_k, "fold_auc": aucs,
                "mean_auc": round(float(np.mean(aucs)), 2)}
    best = max(table.values(), key=lambda r: (r["mean_auc"], r["cell"]))
    return {"protocol": "4-fold leave-clips-out on the training clips, synthetic cyclist and "
                        "cart pasted into held-out clips (riskstream/evaluation/ped2_cv.py)",
            "chosen": {"cell": best["cell"], "top_k": best["top_k"],
                       "mean_auc": best["mean_auc"]},
            "candidates": table}
