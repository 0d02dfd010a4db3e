"""Camera tampering: covered or blacked-out lens, defocus, a moved camera, a frozen picture.

Compared with a reference learned from the first ``learn_frames`` frames: brightness and
contrast (covered/black), sharpness as the variance of the Laplacian (defocus), how well the
picture's edges still line up with the reference's (view shift), and the number of identical
consecutive frames (frozen). ``score`` is the strongest of the four; ``last`` says which one
fired, for the event.

View shift is measured on the scene's own scale (v2). The share of reference edges still in
place is high for an untouched view and drops to a *chance* level once the view moves; that
chance level depends on how busy the scene is (a textured walkway keeps half its edges "in
place" after any move). Both ends are learned: the aligned level is the learning frames'
overlap, the chance level their overlap with the reference moved by 8 to 24 px (an FFT
correlation, once). The score is how far the picture has fallen from aligned toward chance:
0.5 halfway. A picture that lost its edges altogether is a covered or defocused lens and does
not count as a move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riskstream.models.base import clip_score
from riskstream.models.video.frames import as_gray

SIZE = (160, 120)


class TamperDetector:
    # v2: view shift scaled between the learned aligned and chance overlaps (was fixed 0.3-0.9)
    name = "tamper@2"

    def __init__(self, fps: float, learn_frames: int = 25, frozen_s: float = 3.0) -> None:
        self.learn_frames, self._frozen_limit = learn_frames, max(2, round(frozen_s * fps))
        self._ref_sharp: list[float] = []
        self._ref_edges: np.ndarray | None = None
        self._ref_core: np.ndarray | None = None  # thinned reference edges, computed once
        self._learn_edges: list[np.ndarray] = []
        self._aligned = 1.0  # overlap of the learning frames with the reference
        self._chance = 0.0  # their overlap with the reference moved elsewhere
        self._ref_edge_share = 0.0  # share of the picture that is edge, while learning
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
            self._learn_edges.append(edges)
            return 0.0
        ref_sharp = float(np.median(self._ref_sharp)) or 1.0
        if self._ref_core is None:
            self._learn_view(edges)
        self.last = {
            "covered": clip_score(1.0 - contrast / 12.0) if float(small.mean()) < 40 or contrast < 6 else 0.0,
            "defocus": clip_score((1.0 - sharp / ref_sharp) / 0.85) if sharp < ref_sharp else 0.0,
            "view_shift": self._view_shift(edges),
            "frozen": clip_score(self._same / self._frozen_limit),
        }
        return max(self.last.values())

    def _learn_view(self, edges: np.ndarray) -> None:
        self._ref_core = core = cv2_edges_core(self._ref_edges if self._ref_edges is not None else edges)
        learnt = self._learn_edges or [edges]
        pairs = [overlap_in_place_and_moved(core, e) for e in learnt]
        self._aligned = float(np.median([p[0] for p in pairs]))
        self._chance = float(np.median([p[1] for p in pairs]))
        self._ref_edge_share = float(np.median([e.mean() for e in learnt]))
        self._learn_edges = []

    def _view_shift(self, edges: np.ndarray) -> float:
        core = self._ref_core
        plain = self._aligned - self._chance < 0.05
        if core is None or plain or float(edges.mean()) < 0.5 * self._ref_edge_share:
            return 0.0  # a scene too plain to tell, or a picture without its edges (covered/defocus)
        in_place = float((edges & core).sum()) / max(float(core.sum()), 1.0)
        return clip_score((self._aligned - in_place) / (self._aligned - self._chance))

    @property
    def reason(self) -> str:
        return max(self.last, key=lambda k: self.last[k]) if self.last else ""


MOVE_MIN, MOVE_MAX = 8, 24  # px at SIZE: "moved elsewhere" for the chance level


def overlap_in_place_and_moved(core: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    """(share of ``core`` edges found in ``edges`` in place, the median share over the moves of
    ``edges`` by MOVE_MIN to MOVE_MAX px): one FFT correlation of the two edge maps."""
    h, w = core.shape
    shape = (h + MOVE_MAX, w + MOVE_MAX)  # zero padding: no wrap-around within the moves
    corr = np.fft.irfft2(np.conj(np.fft.rfft2(core.astype(np.float32), shape))
                         * np.fft.rfft2(edges.astype(np.float32), shape), shape)
    rows = np.r_[0:MOVE_MAX + 1, shape[0] - MOVE_MAX:shape[0]]
    cols = np.r_[0:MOVE_MAX + 1, shape[1] - MOVE_MAX:shape[1]]
    dy, dx = np.r_[0:MOVE_MAX + 1, -MOVE_MAX:0], np.r_[0:MOVE_MAX + 1, -MOVE_MAX:0]
    moved = np.hypot(dy[:, None], dx[None, :]) >= MOVE_MIN
    total = max(float(core.sum()), 1.0)
    return float(corr[0, 0]) / total, float(np.median(corr[np.ix_(rows, cols)][moved])) / total


def cv2_edges_core(edges: np.ndarray) -> np.ndarray:
    """Reference edges, thinned back so small jitter of the camera does not count as a move."""
    import cv2

    return np.asarray(cv2.erode(edges.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
