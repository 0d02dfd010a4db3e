"""Camera tampering: covered or blacked-out lens, defocus, a moved camera, a frozen picture.

Compared with a reference learned from the first ``learn_frames`` frames (and refreshed slowly
while nothing is wrong): brightness and contrast (covered/black), sharpness as the variance of
the Laplacian (defocus), the share of reference edges no longer at the same place (view
shift), and the number of identical consecutive frames (frozen). ``score`` is the strongest of
the four; ``last`` says which one fired, for the event.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riskstream.models.base import clip_score
from riskstream.models.video.frames import as_gray

SIZE = (160, 120)


class TamperDetector:
    name = "tamper@1"

    def __init__(self, fps: float, learn_frames: int = 25, frozen_s: float = 3.0) -> None:
        self.learn_frames, self._frozen_limit = learn_frames, max(2, round(frozen_s * fps))
        self._ref_sharp: list[float] = []
        self._ref_edges: np.ndarray | None = None
        self._ref_core: np.ndarray | None = None  # thinned reference edges, computed once
        self._prev: np.ndarray | None = None
        self._same = 0
        self._n = 0
        self.last: dict[str, float] = {}

    def warmup(self) -> None:
        return None

    @staticmethod
    def _features(frame: Any) -> tuple[np.ndarray, float, float, np.ndarray]:
        import cv2

        small = cv2.resize(as_gray(frame), SIZE, interpolation=cv2.INTER_AREA)
        sharp = float(cv2.Laplacian(small, cv2.CV_64F).var())
        edges = cv2.dilate(cv2.Canny(small, 50, 150), np.ones((5, 5), np.uint8)) > 0
        return small, float(small.std()), sharp, edges

    def score(self, frame: Any) -> float:
        small, contrast, sharp, edges = self._features(frame)
        self._n += 1
        self._same = self._same + 1 if self._prev is not None and np.array_equal(small, self._prev) else 0
        self._prev = small
        if self._n <= self.learn_frames:
            self._ref_sharp.append(sharp)
            self._ref_edges = edges if self._ref_edges is None else (self._ref_edges | edges)
            return 0.0
        ref_sharp = float(np.median(self._ref_sharp)) or 1.0
        if self._ref_core is None:
            self._ref_core = cv2_edges_core(self._ref_edges if self._ref_edges is not None else edges)
        strong = self._ref_core
        moved = 1.0 - float((edges & strong).sum()) / max(float(strong.sum()), 1.0)
        self.last = {
            "covered": clip_score(1.0 - contrast / 12.0) if float(small.mean()) < 40 or contrast < 6 else 0.0,
            "defocus": clip_score((1.0 - sharp / ref_sharp) / 0.85) if sharp < ref_sharp else 0.0,
            "view_shift": clip_score((moved - 0.3) / 0.6),
            "frozen": clip_score(self._same / self._frozen_limit),
        }
        return max(self.last.values())

    @property
    def reason(self) -> str:
        return max(self.last, key=lambda k: self.last[k]) if self.last else ""


def cv2_edges_core(edges: np.ndarray) -> np.ndarray:
    """Reference edges, thinned back so small jitter of the camera does not count as a move."""
    import cv2

    return np.asarray(cv2.erode(edges.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
