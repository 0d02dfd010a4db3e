"""Background subtraction (OpenCV MOG2) with masks: the foreground shared by motion and fall."""

from __future__ import annotations

from typing import Any

import numpy as np

from riskstream.models.video.frames import as_gray


class Foreground:
    """A foreground mask per frame; ``mask`` (255 = watched) limits where motion counts."""

    def __init__(self, history: int = 300, var_threshold: float = 25.0, learning_rate: float = -1.0) -> None:
        import cv2

        self._bg = cv2.createBackgroundSubtractorMOG2(
            history=history, varThreshold=var_threshold, detectShadows=False
        )
        self._kernel = np.ones((3, 3), np.uint8)
        self.learning_rate = learning_rate

    def apply(self, frame: Any, mask: np.ndarray | None = None) -> np.ndarray:
        import cv2

        gray = as_gray(frame)
        fg = self._bg.apply(gray, learningRate=self.learning_rate)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._kernel)
        if mask is not None:
            if mask.shape != fg.shape:
                raise ValueError(f"mask shape {mask.shape} does not match frame {fg.shape}")
            fg = cv2.bitwise_and(fg, mask)
        return np.asarray(fg)


def polygon_mask(shape: tuple[int, int], polygon: list[tuple[float, float]]) -> np.ndarray:
    """A 255/0 mask of a polygon given in frame fractions (0..1, x then y)."""
    import cv2

    h, w = shape
    pts = np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in polygon], dtype=np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [pts], 255)
    return mask
