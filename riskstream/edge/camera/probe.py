"""``riskstream camera probe URL``: can this box read that camera, and how fast?"""

from __future__ import annotations

import time
from dataclasses import dataclass

from riskstream.edge.camera.capture import open_stream, redact


@dataclass(frozen=True, slots=True)
class ProbeResult:
    url: str
    opened: bool
    open_s: float
    frames: int = 0
    seconds: float = 0.0
    width: int = 0
    height: int = 0
    stream_fps: float = 0.0
    error: str = ""

    @property
    def measured_fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def probe(
    url: str, seconds: float = 5.0, open_timeout_s: float = 10.0, read_timeout_s: float = 5.0
) -> ProbeResult:
    import cv2

    safe = redact(url)
    start = time.monotonic()
    cap = open_stream(url, open_timeout_s, read_timeout_s)
    opened_after = time.monotonic() - start
    if cap is None:
        return ProbeResult(safe, False, opened_after, error=f"cannot open {safe} within {open_timeout_s:g} s")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    frames, width, height, error = 0, 0, 0, ""
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            ok, image = cap.read()
            if not ok or image is None:
                error = "the stream ended or stalled" if frames else "opened, but no frame arrived"
                break
            frames += 1
            height, width = image.shape[:2]
    finally:
        cap.release()
    return ProbeResult(safe, True, opened_after, frames, time.monotonic() - t0, width, height, fps, error)
