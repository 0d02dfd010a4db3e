"""Person down: the top of an upright person's silhouette drops by a large share of their height
within a short time (a fall), from background subtraction alone.

An *upright* observation is the largest foreground blob, at least ``min_area`` of the frame and
taller than wide (height >= ``upright_ratio`` x width). The reference is the highest head
position (smallest top y) and its height among upright observations in the last ``memory``
frames. Score = drop / (drop + ``drop_reference``) where drop = (top - reference top) /
reference height, so a drop of ``drop_reference`` (40 % of body height) scores 0.5. Generic
numbers, not fitted to any clip.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from riskstream.models.base import clip_score
from riskstream.models.video.foreground import Foreground
from riskstream.models.video.frames import as_gray


class FallDetector:
    name = "fall-silhouette@1"

    def __init__(
        self,
        fps: float,
        memory_s: float = 1.0,
        min_area: float = 0.01,
        upright_ratio: float = 1.3,
        drop_reference: float = 0.4,
    ) -> None:
        self.min_area, self.upright_ratio, self.drop_reference = min_area, upright_ratio, drop_reference
        self._fg = Foreground(history=500)
        self._upright: deque[tuple[int, int, int]] = deque()  # (frame no, top y, height)
        self._memory = max(1, round(memory_s * fps))
        self._n = 0

    def warmup(self) -> None:
        return None

    def _blob(self, frame: Any) -> tuple[int, int, int, int] | None:
        import cv2

        gray = as_gray(frame)
        fg = self._fg.apply(gray)
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return None
        biggest = max(contours, key=cv2.contourArea)
        if cv2.contourArea(biggest) < self.min_area * gray.size:
            return None
        x, y, w, h = cv2.boundingRect(biggest)
        return x, y, w, h

    def score(self, frame: Any) -> float:
        self._n += 1
        blob = self._blob(frame)
        while self._upright and self._upright[0][0] <= self._n - self._memory:
            self._upright.popleft()
        if blob is None:
            return 0.0
        _, top, w, h = blob
        if h >= self.upright_ratio * w:
            self._upright.append((self._n, top, h))
        if not self._upright:
            return 0.0
        _, ref_top, ref_h = min(self._upright, key=lambda o: o[1])
        drop = max(0.0, (top - ref_top) / ref_h)
        return clip_score(drop / (drop + self.drop_reference))
