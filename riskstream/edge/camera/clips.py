"""Short clips around each video incident's start, for the center (``rs.evidence``, kind clip).

:class:`ClipRecorder` is bookkeeping only (time is the frame's): it keeps the last ``pre_s``
of analysed frames, shrunk to at most ``MAX_WIDTH`` wide; an incident's start event opens a
clip with them, and the frames that follow are added until ``post_s`` after the start.
:func:`encode_clip` writes a finished one as WebM (VP8, which browsers play without plugins),
smaller until it fits the evidence record.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskstream.events import Event

MAX_WIDTH = 640
MIN_FRAMES = 3  # fewer is a snapshot, not a clip (a camera analysed at under 1 fps)


@dataclass
class PendingClip:
    event: Event  # the incident's start event: the clip is its evidence
    start: float
    frames: list[tuple[float, Any]] = field(default_factory=list)


class ClipRecorder:
    def __init__(self, pre_s: float, post_s: float) -> None:
        self.pre_s, self.post_s = pre_s, post_s
        self._recent: deque[tuple[float, Any]] = deque()
        self._open: list[PendingClip] = []

    def add(self, wall: float, image: Any) -> list[PendingClip]:
        """Record one analysed frame; returns the clips it completes."""
        small = shrink(image)
        self._recent.append((wall, small))
        while self._recent and self._recent[0][0] < wall - self.pre_s:
            self._recent.popleft()
        done = []
        for clip in list(self._open):
            if wall > clip.start + self.post_s:
                self._open.remove(clip)
                done.append(clip)
            else:
                clip.frames.append((wall, small))
        return [c for c in done if len(c.frames) >= MIN_FRAMES]

    def open(self, event: Event, wall: float) -> None:
        """An incident started with this frame (already added): its clip begins ``pre_s`` back."""
        self._open.append(PendingClip(event, wall, list(self._recent)))

    def close_all(self) -> list[PendingClip]:
        done, self._open = self._open, []
        return [c for c in done if len(c.frames) >= MIN_FRAMES]


def shrink(image: Any) -> Any:
    import cv2

    h, w = image.shape[:2]
    if w <= MAX_WIDTH:
        return image.copy()
    return cv2.resize(image, (MAX_WIDTH, max(2, round(h * MAX_WIDTH / w))),
                      interpolation=cv2.INTER_AREA)


def encode_clip(clip: PendingClip, path: Path, limit: int) -> bytes:
    """Write the clip to ``path`` as WebM (VP8) at the frames' own rate and return its bytes;
    halve the size until it fits ``limit``."""
    import cv2

    frames = [image for _, image in clip.frames]
    span = clip.frames[-1][0] - clip.frames[0][0]
    fps = max(1.0, (len(frames) - 1) / span) if span > 0 else 5.0
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        h, w = frames[0].shape[:2]
        size = (w - w % 2, h - h % 2)
        fourcc = cv2.VideoWriter_fourcc(*"VP80")  # type: ignore[attr-defined]
        writer = _quiet_writer(str(path), fourcc, fps, size)
        if not writer.isOpened():
            raise ValueError("this OpenCV build cannot write WebM (VP8)")
        for image in frames:
            colour = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            writer.write(colour[: size[1], : size[0]])
        writer.release()
        data = path.read_bytes()
        if len(data) <= limit:
            return data
        if w < 64:
            path.unlink(missing_ok=True)
            raise ValueError(f"a clip of this camera does not fit in {limit} bytes")
        frames = [cv2.resize(f, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for f in frames]


def _quiet_writer(path: str, fourcc: int, fps: float, size: tuple[int, int]) -> Any:
    """OpenCV's FFmpeg backend warns on every WebM writer that the VP80 tag is not WebM's
    (it then writes VP8 all the same): keep that out of the edge's log."""
    import cv2

    logging = getattr(cv2, "utils", None) and getattr(cv2.utils, "logging", None)
    if logging is None:
        return cv2.VideoWriter(path, fourcc, fps, size)
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        return cv2.VideoWriter(path, fourcc, fps, size)
    finally:
        logging.setLogLevel(level)
