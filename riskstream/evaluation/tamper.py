"""Camera tamper, measured: the edge's own camera analyser (tamper detector, threshold filter,
incidents) on real footage, untouched and with four tampers applied synthetically.

Protocol, fixed before the first scoring run and not tuned since: every UCSD Ped2 clip present
(training and test, 10 frames/s, the footage the camera detectors are developed on), the
detector at its configured defaults. Each clip is played once untouched (every ``video.tamper``
incident there is a false alarm) and once per tamper, applied from ``ONSET_S`` to the end:

- covered: a hand or cloth over the lens: a dark, nearly uniform picture with sensor noise;
- defocused: the lens knocked out of focus: a Gaussian blur of sigma ``BLUR_SIGMA`` px;
- view shifted: the camera turned: the picture moved by ``SHIFT`` of its width and rotated
  ``ROTATE_DEG`` degrees;
- frozen: the stream repeats the frame at the onset (a looped or stuck encoder).

A tamper is detected when an incident starts at or after the onset; time to detect is from the
onset to that frame. Baseline in the same run: what a plain NVR's "video loss" check gives (a
dark picture, or identical frames for the same frozen time), which knows nothing of focus or
of the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from riskstream.evaluation.datapath import dataset_dir
from riskstream.evaluation.video_io import jpeg_folder

FPS = 10.0  # UCSD Ped2's frame rate
ONSET_S = 6.0  # after the detector's 25-frame learning, well inside every clip (>= 12 s)
BLUR_SIGMA = 4.0
SHIFT, ROTATE_DEG = 0.15, 4.0
KINDS = ("covered", "defocused", "view_shifted", "frozen")

Tamper = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _covered(frame: np.ndarray, _onset: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dark = np.full(frame.shape, 12.0) + rng.normal(0.0, 3.0, frame.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)


def _defocused(frame: np.ndarray, _onset: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    import cv2

    return np.asarray(cv2.GaussianBlur(frame, (0, 0), BLUR_SIGMA))


def _view_shifted(frame: np.ndarray, _onset: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = frame.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ROTATE_DEG, 1.0)
    m[0, 2] += SHIFT * w
    return np.asarray(cv2.warpAffine(frame, m, (w, h), borderMode=cv2.BORDER_REFLECT))


def _frozen(_frame: np.ndarray, onset: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    return onset


TAMPERS: dict[str, Tamper] = {"covered": _covered, "defocused": _defocused,
                              "view_shifted": _view_shifted, "frozen": _frozen}


def tampered(frames: list[np.ndarray], kind: str, onset: int, seed: int = 0) -> Iterator[np.ndarray]:
    apply, rng = TAMPERS[kind], np.random.default_rng(seed)
    for i, frame in enumerate(frames):
        yield frame if i < onset else apply(frame, frames[onset], rng)


def analyser_starts(frames: Iterator[np.ndarray]) -> list[int]:
    """Frame numbers (0-based) where the edge's camera analyser starts a tamper incident."""
    from riskstream.config.schema import Camera, EdgeSettings
    from riskstream.detectors import TamperSpec
    from riskstream.edge.camera.analyzer import CameraAnalyzer
    from riskstream.edge.camera.frame_queue import Frame

    camera = Camera(id="cam-eval", site="eval", url="file", fps=FPS, detectors=[TamperSpec()])
    edge = EdgeSettings()
    analyser = CameraAnalyzer(camera, "eval", None, edge.incident_update_s, edge.incident_end_s)
    starts = []
    for i, image in enumerate(frames):
        t = 1_800_000_000.0 + i / FPS
        if any(e.attrs.get("phase") == "start" for e in analyser.analyse(Frame(image, t, t))):
            starts.append(i)
    return starts


def baseline_starts(frames: Iterator[np.ndarray], frozen_s: float = 3.0) -> list[int]:
    """Video loss as a plain NVR checks it: a dark picture or identical frames for frozen_s."""
    import cv2

    starts, active, same, prev = [], False, 0, None
    for i, frame in enumerate(frames):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        same = same + 1 if prev is not None and np.array_equal(gray, prev) else 0
        prev = gray
        lost = float(gray.mean()) < 40 or same >= frozen_s * FPS
        if lost and not active:
            starts.append(i)
        active = lost
    return starts


def _score(starts: list[int], onset: int) -> tuple[float | None, int]:
    """(seconds from onset to the first start at or after it, or None; starts before onset)."""
    after = [s for s in starts if s >= onset]
    return ((after[0] - onset) / FPS if after else None), sum(1 for s in starts if s < onset)


def _summary(per_clip: dict[str, dict[str, Any]], method: str, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        delays = [c[kind][method]["seconds_to_detect"] for c in per_clip.values()]
        found = [d for d in delays if d is not None]
        out[kind] = {
            "detection_rate": round(len(found) / len(delays), 3),
            "median_seconds_to_detect": round(median(found), 1) if found else None,
            "max_seconds_to_detect": round(max(found), 1) if found else None,
        }
    false = sum(c["untouched"][method] for c in per_clip.values())
    out["untouched"] = {"false_alarms": false,
                        "false_alarms_per_hour": round(false / (seconds / 3600), 2)}
    return out


def evaluate(data: str | Path | None = None) -> dict[str, Any]:
    root = dataset_dir("video/ucsd_ped2", data)
    clips = [(f"{part}/{c.name}", c) for part in ("training", "testing")
             for c in sorted((root / part / "frames").iterdir()) if c.is_dir()]
    onset = round(ONSET_S * FPS)
    per_clip: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    for name, folder in clips:
        frames = list(jpeg_folder(folder))
        seconds += len(frames) / FPS
        row: dict[str, Any] = {"frames": len(frames), "untouched": {
            "ours": len(analyser_starts(iter(frames))),
            "baseline": len(baseline_starts(iter(frames)))}}
        for kind in KINDS:
            ours_delay, ours_early = _score(analyser_starts(tampered(frames, kind, onset)), onset)
            base_delay, base_early = _score(baseline_starts(tampered(frames, kind, onset)), onset)
            row[kind] = {"ours": {"seconds_to_detect": ours_delay, "false_before_onset": ours_early},
                         "baseline": {"seconds_to_detect": base_delay,
                                      "false_before_onset": base_early}}
        per_clip[name] = row
    return {
        "dataset": f"UCSD Ped2, {len(clips)} clips (training and test), {seconds / 60:.1f} min "
                   f"of footage; tampers from {ONSET_S:.0f} s to the clip's end",
        "protocol": __doc__.split("Protocol, ")[1].split("\n\nA tamper")[0].strip()
        if __doc__ else "",
        "detector": {"name": "tamper@2 through the edge's camera analyser",
                     **_summary(per_clip, "ours", seconds)},
        "baseline": {"name": "video loss (dark picture or frozen 3 s), as a plain NVR checks",
                     **_summary(per_clip, "baseline", seconds)},
        "clips": per_clip,
    }
