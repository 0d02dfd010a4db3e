"""Reading evaluation frames: JPEG folders and video files, in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


def jpeg_folder(folder: Path) -> Iterator[np.ndarray]:
    import cv2

    for path in sorted(folder.glob("*.jpg")):
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"{path}: not a readable image")
        yield frame


def video_frames(path: Path) -> tuple[float, Iterator[np.ndarray]]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: cannot open video")
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0

    def frames() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield frame
        finally:
            cap.release()

    return fps, frames()
