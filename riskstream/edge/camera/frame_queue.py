"""A bounded hand-over from capture to analysis that drops the oldest frame when full.

Analysis that falls behind sees the newest frames, not a growing backlog; every dropped
frame is counted (``riskstream_camera_frames_dropped_total``) and reported in heartbeats.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Frame:
    image: Any  # BGR uint8 array
    t: float  # stream time, seconds
    wall: float  # time.time() when captured


class LatestFrames:
    def __init__(self, capacity: int = 2) -> None:
        self._items: deque[Frame] = deque()
        self._capacity = capacity
        self._cond = threading.Condition()
        self.dropped = 0
        self._closed = False

    def put(self, frame: Frame) -> None:
        with self._cond:
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(frame)
            self._cond.notify()

    def get(self, timeout: float) -> Frame | None:
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
