"""Generated camera clips for tests, benchmarks and the demo (no shared data needed).

A textured static scene with a dark walker crossing the frame from left to right, written as
H.264 MP4 by ffmpeg (what an IP camera streams), at any size, rate and length.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 120, np.uint8)
    for _ in range(40):
        x, y = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        w, h = int(rng.integers(width // 40, width // 6)), int(rng.integers(height // 40, height // 6))
        cv2.rectangle(img, (x, y), (x + w, y + h), tuple(int(c) for c in rng.integers(30, 230, 3)), -1)
    return img


def walker_frames(width: int, height: int, fps: float, seconds: float, seed: int = 0) -> Iterator[np.ndarray]:
    """The scene, with a walker crossing during the middle 60 % of the clip."""
    base = scene(width, height, seed)
    rng = np.random.default_rng(seed + 1)
    n = round(fps * seconds)
    bw, bh = max(4, width // 16), max(8, height // 4)
    for i in range(n):
        frame = base.copy()
        progress = (i / max(n - 1, 1) - 0.2) / 0.6
        if 0.0 <= progress <= 1.0:
            x, y = int(progress * (width - bw)), height // 2
            frame[y : y + bh, x : x + bw] = 25
        noise = rng.integers(-3, 4, frame.shape, dtype=np.int16)
        yield np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def write_h264(frames: Iterator[np.ndarray], path: Path, fps: float, width: int, height: int) -> Path:
    """Encode BGR frames as H.264 MP4 with ffmpeg (Debian's ffmpeg has libx264)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found: sudo apt-get install -y ffmpeg")
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(max(1, round(fps))),
        "-movflags",
        "+faststart",
        str(path),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for frame in frames:
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to write {path}")
    return path


def walker_clip(
    path: Path, width: int = 640, height: int = 360, fps: float = 10.0, seconds: float = 8.0, seed: int = 0
) -> Path:
    return write_h264(walker_frames(width, height, fps, seconds, seed), path, fps, width, height)
