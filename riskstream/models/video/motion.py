"""Motion in configured zones: the share of a zone's pixels that are foreground.

Score = fraction / (fraction + ``reference``), so a zone whose foreground covers ``reference``
of its area scores 0.5. Zones are polygons in frame fractions; areas outside every zone (and
an optional exclusion mask) never count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riskstream.models.base import clip_score
from riskstream.models.video.foreground import Foreground, polygon_mask
from riskstream.models.video.frames import as_gray


class ZoneMotion:
    name = "zone-motion@1"

    def __init__(
        self,
        zones: dict[str, list[tuple[float, float]]],
        reference: float = 0.02,
        exclude: list[list[tuple[float, float]]] | None = None,
        warm_frames: int = 10,
    ) -> None:
        if not zones:
            raise ValueError("zone motion needs at least one zone")
        self.zones, self.reference, self.exclude = zones, reference, exclude or []
        self._fg = Foreground()
        self._masks: dict[str, np.ndarray] | None = None
        self.last: dict[str, float] = {}
        self.warm_frames = warm_frames  # the background model is still learning: no scores yet
        self._seen = 0

    def warmup(self) -> None:
        return None

    def _build_masks(self, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        keep = np.full(shape, 255, np.uint8)
        for poly in self.exclude:
            keep[polygon_mask(shape, poly) > 0] = 0
        return {
            name: np.where(keep > 0, polygon_mask(shape, poly), 0).astype(np.uint8)
            for name, poly in self.zones.items()
        }

    def zone_scores(self, frame: Any) -> dict[str, float]:
        """Score per zone for this frame."""
        gray = as_gray(frame)
        if self._masks is None or next(iter(self._masks.values())).shape != gray.shape:
            self._masks = self._build_masks(gray.shape)
        fg = self._fg.apply(gray)
        self._seen += 1
        if self._seen <= self.warm_frames:
            self.last = dict.fromkeys(self._masks, 0.0)
            return self.last
        out = {}
        for name, mask in self._masks.items():
            area = int(np.count_nonzero(mask))
            frac = float(np.count_nonzero(fg & mask)) / area if area else 0.0
            out[name] = clip_score(frac / (frac + self.reference))
        self.last = out
        return out

    def score(self, frame: Any) -> float:
        return max(self.zone_scores(frame).values())
