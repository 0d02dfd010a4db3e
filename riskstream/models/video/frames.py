"""Frame checks and conversions shared by the video detectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from riskstream.models.base import DetectorInputError


def as_gray(frame: Any) -> np.ndarray:
    """A BGR or grayscale uint8 frame as 2-D grayscale, or a clear error."""
    import cv2

    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise DetectorInputError(f"expected a uint8 frame, got dtype {arr.dtype}")
    if arr.ndim == 2:
        gray = arr
    elif arr.ndim == 3 and arr.shape[2] == 3:
        gray = cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY)
    else:
        raise DetectorInputError(f"expected an HxW or HxWx3 frame, got shape {arr.shape}")
    if gray.shape[0] < 8 or gray.shape[1] < 8:
        raise DetectorInputError(f"frame {gray.shape} is too small to analyse")
    return gray
